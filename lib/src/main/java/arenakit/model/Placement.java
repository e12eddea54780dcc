package arenakit.model;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which device holds which decoder layers: one stage per device, in order; the embedding lives with the first
 * stage, the final norm and head with the last. Two stages on two GPUs is how the 2nd-place solution ran
 * Gemma-2-9B on 2x T4 (layers [0, 21) and [21, 42)); two stages on the CPU exercise the same code in tests.
 */
public final class Placement {

    /** Layers {@code [from, to)} on {@code device}. */
    public record Stage(Device device, int from, int to) {}

    private static final Pattern DEVICE = Pattern.compile("(cpu)(?:\\(\\))?|gpu(?:(\\d+)|\\((\\d+)\\))?");

    private final List<Device> devices;
    private final int[] boundaries;

    private Placement(List<Device> devices, int[] boundaries) {
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("a placement needs at least one device");
        }
        this.devices = List.copyOf(devices);
        this.boundaries = boundaries;
    }

    /** Everything on one device. */
    public static Placement single(Device device) {
        return new Placement(List.of(device), null);
    }

    /** Layers split as evenly as possible over the devices, in order. */
    public static Placement split(Device... devices) {
        return new Placement(List.of(devices), null);
    }

    /** Layers split at the given layer indices, e.g. {@code split(new int[] {21}, gpu0, gpu1)}. */
    public static Placement split(int[] boundaries, Device... devices) {
        if (boundaries.length != devices.length - 1) {
            throw new IllegalArgumentException(devices.length + " devices need " + (devices.length - 1)
                    + " boundaries, got " + boundaries.length);
        }
        return new Placement(List.of(devices), boundaries.clone());
    }

    /** Parses {@code cpu}, {@code gpu0}, {@code gpu0,gpu1} or {@code gpu0:21,gpu1} (a stage ends where the next starts). */
    public static Placement parse(String spec) {
        List<Device> devs = new ArrayList<>();
        List<Integer> cuts = new ArrayList<>();
        for (String part : spec.split(",")) {
            String[] dc = part.trim().split(":");
            devs.add(device(dc[0].trim()));
            if (dc.length > 1) {
                cuts.add(Integer.parseInt(dc[1]));
            }
        }
        if (cuts.isEmpty()) {
            return new Placement(devs, null);
        }
        return split(cuts.stream().mapToInt(Integer::intValue).toArray(), devs.toArray(new Device[0]));
    }

    /**
     * A device by name: {@code cpu}, {@code gpu0} or DJL's {@code gpu(0)}, {@code gpu1}, ... ({@code gpu} alone is
     * the first GPU); parsed without starting an engine, so configs can be checked before anything runs.
     */
    public static Device device(String name) {
        Matcher m = DEVICE.matcher(name.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("unknown device '" + name + "' (cpu, gpu0 or gpu(0), gpu1, ...)");
        }
        if (m.group(1) != null) {
            return Device.cpu();
        }
        String index = m.group(2) != null ? m.group(2) : m.group(3);
        return Device.gpu(index == null ? 0 : Integer.parseInt(index));
    }

    public List<Device> devices() {
        return devices;
    }

    /** The stages for a model of {@code numLayers} layers. */
    public List<Stage> stages(int numLayers) {
        int n = devices.size();
        int[] cuts = new int[n + 1];
        cuts[n] = numLayers;
        for (int i = 1; i < n; i++) {
            cuts[i] = boundaries != null ? boundaries[i - 1] : (int) ((long) numLayers * i / n);
        }
        List<Stage> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (cuts[i + 1] < cuts[i] || cuts[i + 1] > numLayers) {
                throw new IllegalArgumentException("bad layer split " + java.util.Arrays.toString(cuts)
                        + " for " + numLayers + " layers");
            }
            out.add(new Stage(devices.get(i), cuts[i], cuts[i + 1]));
        }
        return out;
    }

    @Override
    public String toString() {
        return devices + (boundaries == null ? "" : " split at " + java.util.Arrays.toString(boundaries));
    }
}
