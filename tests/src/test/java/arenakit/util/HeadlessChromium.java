package arenakit.util;

import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/**
 * Opens HTML files in Debian's headless Chromium (installed by environment/setup.sh) to check that charts are really
 * drawn: the DOM after scripts ran, and a screenshot. All network goes to a dead proxy, so a page that needs a CDN
 * shows up blank. A missing browser fails the test (CI runs setup first), it does not skip.
 */
public final class HeadlessChromium {
    private static final long TIMEOUT_S = 120;

    private HeadlessChromium() {}

    /** The serialised DOM after the page's scripts ran. */
    public static String dumpDom(Path html) throws IOException, InterruptedException {
        Path dom = Files.createTempFile("chromium-dom", ".html");
        try {
            run(List.of("--dump-dom", html.toUri().toString()), dom, 1200, 2000);
            return Files.readString(dom, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(dom);
        }
    }

    /** A screenshot of the page's top {@code width x height} pixels. */
    public static BufferedImage screenshot(Path html, Path png, int width, int height)
            throws IOException, InterruptedException {
        Files.deleteIfExists(png);
        run(List.of("--screenshot=" + png.toAbsolutePath(), html.toUri().toString()), null, width, height);
        if (!Files.isRegularFile(png)) {
            fail("chromium wrote no screenshot to " + png);
        }
        return ImageIO.read(png.toFile());
    }

    /** Pixels in {@code [x0, x1) x [y0, y1)} with a clear hue (chart colours; text, grid lines and paper are grey). */
    public static long colouredPixels(BufferedImage image, int x0, int y0, int x1, int y1) {
        long n = 0;
        for (int y = Math.max(0, y0); y < Math.min(y1, image.getHeight()); y++) {
            for (int x = Math.max(0, x0); x < Math.min(x1, image.getWidth()); x++) {
                int rgb = image.getRGB(x, y);
                int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
                    n++;
                }
            }
        }
        return n;
    }

    static Path executable() {
        for (String name : new String[] {"chromium", "chromium-browser"}) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        fail("chromium is not installed: run `bash environment/setup.sh` (it installs Debian's chromium)");
        return null;
    }

    private static void run(List<String> args, Path stdout, int width, int height)
            throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("chromium-profile");
        Path log = Files.createTempFile("chromium", ".log");
        List<String> cmd = new ArrayList<>(List.of(executable().toString(),
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--hide-scrollbars", "--user-data-dir=" + profile,
                "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=10000",
                "--window-size=" + width + "," + height));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(Redirect.appendTo(log.toFile()));
        pb.redirectOutput(stdout == null ? Redirect.appendTo(log.toFile()) : Redirect.to(stdout.toFile()));
        Process p = pb.start();
        try {
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("chromium did not finish in " + TIMEOUT_S + " s: " + String.join(" ", cmd));
            }
            if (p.exitValue() != 0) {
                fail("chromium exited with " + p.exitValue() + ": " + Files.readString(log));
            }
        } finally {
            Files.deleteIfExists(log);
            Folders.deleteTree(profile);
        }
    }
}
