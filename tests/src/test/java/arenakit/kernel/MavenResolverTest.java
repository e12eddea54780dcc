package arenakit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * %maven's resolver on a local repository made here: artifacts that exist nowhere else (not on Maven Central), so
 * resolving them proves the local repository is used, offline, with transitive dependencies.
 */
class MavenResolverTest {
    private static final String GROUP = "org.arenakit.test.resolver";

    @TempDir
    Path repo;

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    private MavenResolver resolver() {
        return new MavenResolver(repo, () -> new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    @Test
    void resolvesLocalArtifactsWithTheirRuntimeDependenciesOffline() throws IOException {
        install("app", "1.0", dependency("words", "1.0", "compile") + dependency("junit-like", "1.0", "test"));
        install("words", "1.0", dependency("letters", "2.1", "runtime"));
        install("letters", "2.1", "");
        List<Path> jars = resolver().resolve(List.of(GROUP + ":app:1.0"));
        assertEquals(List.of("app-1.0.jar", "words-1.0.jar", "letters-2.1.jar"),
                jars.stream().map(p -> p.getFileName().toString()).toList(),
                "runtime dependencies follow the artifact; test-scoped ones are left out");
        assertEquals("", log.toString(StandardCharsets.UTF_8), "nothing was downloaded");
    }

    @Test
    void classifierCoordinatesUseIJavasFormat() throws IOException {
        install("native", "2.5.1", "");
        Path classified = repo.resolve(path("native", "2.5.1")).resolve("native-2.5.1-linux-x86_64.jar");
        jar(classified);
        List<Path> jars = resolver().resolve(List.of(GROUP + ":native:jar:linux-x86_64:2.5.1"));
        assertEquals(List.of(classified), jars);
    }

    @Test
    void anArtifactThatExistsNowhereFailsNamingItAndWhereItWasLookedFor() {
        MavenResolver.MavenResolutionException e = assertThrows(MavenResolver.MavenResolutionException.class,
                () -> resolver().resolve(List.of(GROUP + ":no-such-artifact:9.9")));
        assertTrue(e.getMessage().startsWith("%maven could not resolve " + GROUP + ":no-such-artifact:9.9"), e.getMessage());
        assertTrue(e.getMessage().contains(repo.toString()) && e.getMessage().contains("repo.maven.apache.org"),
                e.getMessage());
    }

    @Test
    void aBrokenPomFailsInsteadOfDroppingItsDependencies() throws IOException {
        install("broken", "1.0", "<dependency><groupId>" + GROUP + "</groupId><artifactId>x</artifactId></dependency>");
        MavenResolver.MavenResolutionException e = assertThrows(MavenResolver.MavenResolutionException.class,
                () -> resolver().resolve(List.of(GROUP + ":broken:1.0")));
        assertTrue(e.getMessage().contains("version"), e.getMessage());
    }

    @Test
    void badCoordinatesShowTheExpectedFormat() {
        MavenResolver.MavenResolutionException e = assertThrows(MavenResolver.MavenResolutionException.class,
                () -> resolver().resolve(List.of("just-a-name")));
        assertTrue(e.getMessage().contains("groupId:artifactId[:extension[:classifier]]:version"), e.getMessage());
    }

    private static String dependency(String artifact, String version, String scope) {
        return "<dependency><groupId>" + GROUP + "</groupId><artifactId>" + artifact + "</artifactId><version>"
                + version + "</version><scope>" + scope + "</scope></dependency>";
    }

    private static String path(String artifact, String version) {
        return GROUP.replace('.', '/') + "/" + artifact + "/" + version;
    }

    /** Lays out an artifact as `mvn install` does: POM and jar under group/artifact/version. */
    private void install(String artifact, String version, String dependencies) throws IOException {
        Path dir = Files.createDirectories(repo.resolve(path(artifact, version)));
        Files.writeString(dir.resolve(artifact + "-" + version + ".pom"), "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">"
                + "<modelVersion>4.0.0</modelVersion><groupId>" + GROUP + "</groupId><artifactId>" + artifact
                + "</artifactId><version>" + version + "</version><dependencies>" + dependencies
                + "</dependencies></project>");
        jar(dir.resolve(artifact + "-" + version + ".jar"));
    }

    private static void jar(Path file) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(file), manifest)) {
            out.flush();
        }
    }
}
