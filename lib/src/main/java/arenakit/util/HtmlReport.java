package arenakit.util;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jsoup.nodes.Element;
import tech.tablesaw.api.NumericColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;
import tech.tablesaw.io.html.HtmlWriteOptions;
import tech.tablesaw.io.html.HtmlWriter;
import tech.tablesaw.plotly.components.Figure;

/**
 * A self-contained HTML page of headings, text, Tablesaw tables and tablesaw-jsplot figures that opens offline.
 *
 * <p>jsplot's own page template loads plotly.js from a CDN, which leaves a blank page offline (Kaggle, trains,
 * air-gapped clusters). Here plotly.js is inlined once and each figure is its div plus its script: the cartesian
 * bundle ({@link ArenaHome#plotlyCartesianJs()}, 1.4 MB: bar, scatter, histogram, box, heatmap, pie, ...) when it
 * has every trace type the page draws, else the full one ({@link ArenaHome#plotlyJs()}, 4.6 MB). Reusable by any
 * stage that reports (EDA, training curves, inference summaries):
 *
 * <pre>{@code
 * new HtmlReport("EDA").heading("Class balance").table(balance).figure(chart).write(out.resolve("eda.html"));
 * }</pre>
 */
public final class HtmlReport {
    private static final String STYLE = """
            body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2em auto;
                   max-width: 1100px; color: #222; line-height: 1.45; }
            h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
            h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
            table { border-collapse: collapse; margin: .8em 0 1.2em; font-size: 14px; }
            caption { text-align: left; font-weight: 600; padding: .3em 0; }
            th, td { border: 1px solid #ddd; padding: 3px 9px; text-align: left; }
            th { background: #f3f3f3; }
            .num { text-align: right; font-variant-numeric: tabular-nums; }
            tr:nth-child(even) td { background: #fafafa; }
            .figure { margin: .5em 0 1.5em; }
            .note { color: #555; }
            """;

    /** The trace types of plotly.js-cartesian (its package README). */
    static final Set<String> CARTESIAN_TYPES = Set.of("bar", "box", "contour", "heatmap", "histogram",
            "histogram2d", "histogram2dcontour", "image", "pie", "scatter", "scatterternary", "violin");
    private static final Pattern TRACE_TYPE = Pattern.compile("\\btype\\s*:\\s*['\"]([A-Za-z0-9_]+)['\"]");
    /** {@code type:} values that are not trace types: axis types and error-bar types. */
    private static final Set<String> NOT_TRACES = Set.of("linear", "log", "date", "category", "multicategory",
            "data", "percent", "constant", "sqrt", "-");
    private static final Map<Path, String> SCRIPTS = new HashMap<>();

    private final String title;
    private final StringBuilder body = new StringBuilder();
    private final Set<String> traceTypes = new TreeSet<>();
    private int figures;

    public HtmlReport(String title) {
        this.title = title;
    }

    public HtmlReport heading(String text) {
        body.append("<h2>").append(escape(text)).append("</h2>\n");
        return this;
    }

    /** A paragraph of plain text (escaped). */
    public HtmlReport paragraph(String text) {
        body.append("<p>").append(escape(text)).append("</p>\n");
        return this;
    }

    /** A paragraph in a muted style, for definitions and footnotes. */
    public HtmlReport note(String text) {
        body.append("<p class=\"note\">").append(escape(text)).append("</p>\n");
        return this;
    }

    /** A Tablesaw table (all rows, as formatted by its columns' print formatters), captioned with its name. */
    public HtmlReport table(Table table) {
        body.append(tableHtml(table));
        return this;
    }

    public HtmlReport figure(Figure figure) {
        String html = figureHtml(figure, "figure" + (++figures));
        Matcher types = TRACE_TYPE.matcher(html);
        while (types.find()) {
            if (!NOT_TRACES.contains(types.group(1))) {
                traceTypes.add(types.group(1));
            }
        }
        body.append(html);
        return this;
    }

    /** The whole page, plotly.js included (the smallest bundle that draws its figures). */
    public String html() {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"UTF-8\">\n<title>" + escape(title)
                + "</title>\n<style>\n" + STYLE + "</style>\n" + (figures > 0 ? plotlyScript(bundle()) : "")
                + "</head>\n<body>\n<h1>" + escape(title) + "</h1>\n" + body + "</body>\n</html>\n";
    }

    /** The plotly.js file this page inlines: the cartesian bundle when it has every trace type, else the full one. */
    Path bundle() {
        Path cartesian = ArenaHome.plotlyCartesianJs();
        return CARTESIAN_TYPES.containsAll(traceTypes) && Files.isRegularFile(cartesian) ? cartesian
                : ArenaHome.plotlyJs();
    }

    /** Writes the page atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, html());
    }

    /** A Tablesaw table as an HTML {@code <table>} with its name as caption. */
    public static String tableHtml(Table table) {
        StringWriter out = new StringWriter();
        new HtmlWriter().write(table, HtmlWriteOptions.builder(out).elementCreator(HtmlReport::cell).build());
        String html = out.toString();
        // a literal replacement: a '$' or a backslash in the name is text, not a regex group reference
        return html.replaceFirst("<table>",
                Matcher.quoteReplacement("<table>\n<caption>" + escape(table.name()) + "</caption>")) + "\n";
    }

    /** Table cells of number columns get class "num" (right-aligned). */
    private static Element cell(String elementName, Column<?> column, Integer row) {
        Element e = new Element(elementName);
        if (column instanceof NumericColumn && !elementName.equals("table")) {
            e.addClass("num");
        }
        return e;
    }

    /** One figure as a div and the script that draws it into the div; needs {@link #plotlyScript()} on the page. */
    public static String figureHtml(Figure figure, String divId) {
        return "<div class=\"figure\">" + figure.divString(divId) + figure.asJavascript(divId) + "</div>\n";
    }

    /** {@code <script>} with the whole plotly.js inlined (about 4.6 MB). */
    public static String plotlyScript() {
        return plotlyScript(ArenaHome.plotlyJs());
    }

    /** {@code <script>} with a plotly.js bundle inlined. */
    static String plotlyScript(Path bundle) {
        return "<script>\n" + read(bundle) + "\n</script>\n";
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** A plotly.js file's text, read once on first use (a failed read is retried next time, after setup ran). */
    private static synchronized String read(Path file) {
        String text = SCRIPTS.get(file);
        if (text == null) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException(ArenaHome.missing("plotly.js", file)
                        + " (it fetches plotly.js-dist-min into .cache/plotly)");
            }
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
            SCRIPTS.put(file, text);
        }
        return text;
    }
}
