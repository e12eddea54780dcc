package arenakit.kernel;

import io.github.spencerpark.jupyter.kernel.magic.LineMagicParseContext;
import io.github.spencerpark.jupyter.kernel.magic.MagicParser;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Rewrites IJava's line magics into Java, as IJava does: a line {@code %name arg1 "arg 2"} (at the start of a line,
 * or right after {@code =}) becomes {@code Magics.lineMagic("name", List.of("arg1", "arg 2"));}, so the magic runs
 * in cell order and {@code List<String> jars = %jars lib/*.jar} assigns its result. Magic-looking text inside a
 * string literal is left alone. Cell magics ({@code %%name}) are not part of the dialect the notebooks use and are
 * rejected with a clear message instead of a confusing compile error.
 */
final class MagicTransformer {
    private static final String LINE_MAGIC_CALL = "io.github.spencerpark.ijava.runtime.Magics.lineMagic";
    private static final Pattern UNESCAPED_QUOTE = Pattern.compile("(?<!\\\\)\"");
    private static final Pattern CELL_MAGIC = Pattern.compile("\\A\\s*%%(\\w+)");

    private final MagicParser parser = new MagicParser("(?<=(?:^|=))\\s*%", "%%");

    String transform(String cell) {
        Matcher cellMagic = CELL_MAGIC.matcher(cell);
        if (cellMagic.find()) {
            throw new IllegalArgumentException("cell magics are not supported (%%" + cellMagic.group(1)
                    + "); use line magics such as %maven, %jars, %classpath");
        }
        return parser.transformLineMagics(cell, this::transformLine);
    }

    private String transformLine(LineMagicParseContext ctx) {
        boolean inString = false;
        Matcher quotes = UNESCAPED_QUOTE.matcher(ctx.getLinePrefix());
        while (quotes.find()) {
            inString = !inString;
        }
        if (inString) {
            return ctx.getRaw();
        }
        String args = ctx.getMagicCall().getArgs().stream()
                .map(MagicTransformer::literal)
                .collect(Collectors.joining(", "));
        // keep the leading whitespace the pattern consumed so columns in compile errors still line up
        String raw = ctx.getRaw();
        String indent = raw.substring(0, raw.indexOf('%'));
        return indent + LINE_MAGIC_CALL + "(" + literal(ctx.getMagicCall().getName())
                + ", java.util.List.of(" + args + "));";
    }

    /** A Java string literal holding {@code s}. */
    static String literal(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
