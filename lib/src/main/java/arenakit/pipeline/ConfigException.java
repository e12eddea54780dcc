package arenakit.pipeline;

/** A config file that cannot be used; the message names the file and the field. */
public final class ConfigException extends RuntimeException implements arenakit.util.Errors.Explained {
    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    public ConfigException(String message) {
        super(message);
    }
}
