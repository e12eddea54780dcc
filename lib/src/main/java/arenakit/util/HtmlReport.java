package arenakit.util;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
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
 * air-gapped clusters). Here plotly.js is inlined once from {@link ArenaHome#plotlyJs()} and each figure is its
 * div plus its script. Reusable by any stage that reports (EDA, training curves, inference summaries):
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

    private static String plotlyJs;

    private final String title;
    private final StringBuilder body = new StringBuilder();
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
        body.append(figureHtml(figure, "figure" + (++figures)));
        return this;
    }

    /** The whole page, plotly.js included. */
    public String html() {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"UTF-8\">\n<title>" + escape(title)
                + "</title>\n<style>\n" + STYLE + "</style>\n" + plotlyScript() + "</head>\n<body>\n<h1>"
                + escape(title) + "</h1>\n" + body + "</body>\n</html>\n";
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
        return "<script>\n" + plotlyJs() + "\n</script>\n";
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** plotly.js text, read once on first use (a failed read is retried next time, after setup ran). */
    private static synchronized String plotlyJs() {
        if (plotlyJs == null) {
            Path file = ArenaHome.plotlyJs();
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException("plotly.js not found at " + file
                        + ": run `bash environment/setup.sh` (it fetches plotly.js-dist-min into .cache/plotly), "
                        + "or point -Darena.home at a checkout that has it");
            }
            try {
                plotlyJs = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
        return plotlyJs;
    }
}
