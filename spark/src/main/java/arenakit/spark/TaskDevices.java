package arenakit.spark;

import arenakit.infer.InferenceConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The device(s) a task predicts on. With GPU scheduling ({@code spark.executor.resource.gpu.amount},
 * {@code spark.task.resource.gpu.amount}) Spark hands each task its GPU addresses: one address is a single-device
 * task, two are the stage's two-device mode (layers split and pipelined, or a model per GPU). Without it the task
 * uses the stage's own devices, which must then be CPUs: several tasks of one executor would otherwise share a
 * GPU nobody assigned them.
 */
final class TaskDevices {
    private TaskDevices() {}

    /** {@code configured} split on commas when given, else the task's GPUs, else null (the stage's devices). */
    static List<String> of(TaskContext task, String configured) {
        if (configured != null && !configured.isBlank()) {
            return Arrays.stream(configured.split(",")).map(String::trim).toList();
        }
        if (task == null) {
            return null;
        }
        Map<String, ResourceInformation> resources = task.resourcesJMap();
        ResourceInformation gpu = resources.get("gpu");
        if (gpu == null || gpu.addresses().length == 0) {
            return null;
        }
        return Arrays.stream(gpu.addresses()).map(a -> "gpu(" + a + ")").toList();
    }

    /** Refuses GPU devices that Spark did not assign to this task. */
    static void check(InferenceConfig stage, List<String> devices) {
        if (devices == null && stage.devices().stream().anyMatch(d -> !d.equals("cpu"))) {
            throw new IllegalStateException("the stage's inference.devices are " + stage.devices() + ", but Spark "
                    + "assigned this task no GPU: set spark.executor.resource.gpu.amount and "
                    + "spark.task.resource.gpu.amount=1 (with a GPU discovery script; docs/spark.md), or give the job "
                    + "a device (--device / spark.device)");
        }
        if (devices != null && devices.size() > 2) {
            throw new IllegalStateException("a task runs on one or two devices, got " + devices
                    + " (spark.task.resource.gpu.amount must be 1 or 2)");
        }
    }
}
