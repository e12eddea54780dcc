package arenakit.kernel;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.maven.repository.internal.MavenRepositorySystemUtils;
import org.eclipse.aether.ConfigurationProperties;
import org.eclipse.aether.DefaultRepositorySystemSession;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.artifact.Artifact;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.collection.CollectRequest;
import org.eclipse.aether.graph.Dependency;
import org.eclipse.aether.repository.LocalRepository;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyRequest;
import org.eclipse.aether.resolution.DependencyResolutionException;
import org.eclipse.aether.supplier.RepositorySystemSupplier;
import org.eclipse.aether.transfer.AbstractTransferListener;
import org.eclipse.aether.transfer.TransferEvent;
import org.eclipse.aether.util.artifact.JavaScopes;
import org.eclipse.aether.util.filter.DependencyFilterUtils;
import org.eclipse.aether.util.repository.SimpleArtifactDescriptorPolicy;
import org.w3c.dom.NodeList;

/**
 * Resolves Maven coordinates (with their runtime dependencies) to jar files, for IJava's {@code %maven} magic.
 *
 * <p>It asks the local repository first, offline: a {@code mvn install}ed SNAPSHOT (the project's own library) and
 * anything Maven already downloaded resolve without network, fast, on a machine with no internet. Only what is
 * missing there is fetched from Maven Central (and repositories added with {@code %mavenRepo}) into the local
 * repository. The local repository is Maven's: {@code -Dmaven.repo.local}, else {@code <localRepository>} of
 * {@code ~/.m2/settings.xml}, else {@code ~/.m2/repository}.
 */
final class MavenResolver {
    static final RemoteRepository CENTRAL =
            new RemoteRepository.Builder("central", "default", "https://repo.maven.apache.org/maven2/").build();

    private final Path localRepository;
    private final List<RemoteRepository> remotes = new CopyOnWriteArrayList<>(List.of(CENTRAL));
    private final Supplier<PrintStream> log;
    private RepositorySystem system;

    /** @param log where download notices go (the notebook's stderr, looked up at the time of writing) */
    MavenResolver(Path localRepository, Supplier<PrintStream> log) {
        this.localRepository = localRepository;
        this.log = log;
    }

    /** Maven's local repository for the current user, as Maven itself would choose it. */
    static Path defaultLocalRepository() {
        String prop = System.getProperty("maven.repo.local");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        Path m2 = Path.of(System.getProperty("user.home"), ".m2");
        Path settings = m2.resolve("settings.xml");
        if (Files.isRegularFile(settings)) {
            try {
                NodeList nodes = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                        .parse(settings.toFile()).getElementsByTagName("localRepository");
                if (nodes.getLength() > 0 && !nodes.item(0).getTextContent().isBlank()) {
                    String configured = nodes.item(0).getTextContent().strip()
                            .replace("${user.home}", System.getProperty("user.home"));
                    return Path.of(configured);
                }
            } catch (Exception e) {
                throw new IllegalStateException("cannot read " + settings + ": " + e.getMessage(), e);
            }
        }
        return m2.resolve("repository");
    }

    /** Adds a remote repository searched after Maven Central ({@code %mavenRepo id url}). */
    void addRepository(String id, String url) {
        remotes.add(new RemoteRepository.Builder(id, "default", url).build());
    }

    /**
     * The jars of the given artifacts and of their compile/runtime dependencies, in resolution order.
     *
     * @param coordinates {@code groupId:artifactId[:extension[:classifier]]:version}, IJava's format
     * @throws MavenResolutionException naming the coordinates, the repositories searched and the cause
     */
    synchronized List<Path> resolve(List<String> coordinates) {
        if (coordinates.isEmpty()) {
            throw new IllegalArgumentException(
                    "%maven needs coordinates: groupId:artifactId[:extension[:classifier]]:version");
        }
        List<Dependency> dependencies = new ArrayList<>();
        for (String c : coordinates) {
            Artifact artifact;
            try {
                artifact = new DefaultArtifact(c.strip());
            } catch (IllegalArgumentException e) {
                throw new MavenResolutionException("bad Maven coordinates '" + c
                        + "': expected groupId:artifactId[:extension[:classifier]]:version, e.g. "
                        + "ai.djl.pytorch:pytorch-native-cpu:jar:linux-x86_64:2.5.1", e);
            }
            dependencies.add(new Dependency(artifact, JavaScopes.RUNTIME));
        }
        try {
            return resolve(dependencies, true);
        } catch (DependencyResolutionException offline) {
            try {
                return resolve(dependencies, false);
            } catch (DependencyResolutionException online) {
                throw new MavenResolutionException("%maven could not resolve " + String.join(", ", coordinates)
                        + " (searched the local repository " + localRepository + " and "
                        + remotes.stream().map(r -> r.getId() + " " + r.getUrl()).collect(Collectors.joining(", "))
                        + "): " + rootMessage(online), online);
            }
        }
    }

    private List<Path> resolve(List<Dependency> dependencies, boolean offline) throws DependencyResolutionException {
        if (system == null) {
            system = new RepositorySystemSupplier().get();
        }
        DefaultRepositorySystemSession session = MavenRepositorySystemUtils.newSession();
        session.setLocalRepositoryManager(
                system.newLocalRepositoryManager(session, new LocalRepository(localRepository.toFile())));
        session.setOffline(offline);
        // Maven's default quietly drops the dependencies of an artifact whose POM is missing or broken (e.g. a
        // SNAPSHOT installed without its parent POM); a notebook would then fail later on a missing class
        session.setArtifactDescriptorPolicy(new SimpleArtifactDescriptorPolicy(false, false));
        session.setSystemProperties(System.getProperties()); // OS/JDK-activated profiles in dependency POMs
        session.setConfigProperty(ConfigurationProperties.CONNECT_TIMEOUT, 15_000);
        session.setConfigProperty(ConfigurationProperties.REQUEST_TIMEOUT, 120_000);
        session.setTransferListener(new DownloadNotices(log));

        CollectRequest collect = new CollectRequest(dependencies, List.of(), remotes);
        DependencyRequest request =
                new DependencyRequest(collect, DependencyFilterUtils.classpathFilter(JavaScopes.RUNTIME));
        List<Path> jars = new ArrayList<>();
        for (ArtifactResult result : system.resolveDependencies(session, request).getArtifactResults()) {
            Path file = result.getArtifact().getFile().toPath();
            if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jar")) {
                jars.add(file);
            }
        }
        return jars;
    }

    private static String rootMessage(Throwable t) {
        String message = t.getMessage();
        for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
            if (c.getMessage() != null) {
                message = c.getMessage();
            }
            t = c;
        }
        return message;
    }

    void close() {
        if (system != null) {
            system.shutdown();
        }
    }

    /** A line per downloaded jar, so a long first %maven does not look like a hung cell. */
    private static final class DownloadNotices extends AbstractTransferListener {
        private final Supplier<PrintStream> log;

        DownloadNotices(Supplier<PrintStream> log) {
            this.log = log;
        }

        @Override
        public void transferSucceeded(TransferEvent event) {
            String name = event.getResource().getResourceName();
            if (event.getRequestType() == TransferEvent.RequestType.GET && name.endsWith(".jar")) {
                log.get().printf("%%maven: downloaded %s (%.1f MB)%n",
                        name.substring(name.lastIndexOf('/') + 1), event.getTransferredBytes() / 1e6);
            }
        }
    }

    /** Resolution failed; the message says what, where it looked and why. */
    static final class MavenResolutionException extends RuntimeException {
        MavenResolutionException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
