package arenakit.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * basekernel's renderer plus HTML for Tablesaw tables and tablesaw-jsplot figures.
 *
 * <p>Tablesaw arrives at run time through %maven in the notebook's class loader, so these types are recognised by
 * class name and read by reflection; the kernel has no compile-time dependency on Tablesaw and works with whatever
 * version the notebook loads. Tables become an HTML table (head and tail of long tables, long cells cut, the row
 * and column count always shown). Figures become a div plus plotly's script, with plotly.js itself from a local
 * file (no CDN: notebooks must draw offline, e.g. on Kaggle) once per kernel session, see {@link PlotlyJs}.
 */
final class RichRenderer extends Renderer {
    static final String RELATION = "tech.tablesaw.table.Relation";
    static final String FIGURE = "tech.tablesaw.plotly.components.Figure";

    /** Tables up to this many rows are shown whole; longer ones as head + tail. */
    static final int FULL_ROWS = 40;
    static final int HEAD_ROWS = 15;
    static final int TAIL_ROWS = 5;
    static final int MAX_COLUMNS = 40;
    static final int MAX_CELL_CHARS = 120;

    private final PlotlyJs plotly;

    RichRenderer(PlotlyJs plotly) {
        this.plotly = plotly;
    }

    @Override
    public DisplayData render(Object value, Map<String, Object> params) {
        if (value == null) {
            return new DisplayData("null");
        }
        DisplayData rich = renderRich(value);
        return rich != null ? rich : super.render(value, params);
    }

    @Override
    public DisplayData renderAs(Object value, Map<String, Object> params, String... types) {
        DisplayData rich = value == null ? null : renderRich(value);
        if (rich == null) {
            return super.renderAs(value == null ? "null" : value, params, types);
        }
        DisplayData out = new DisplayData(String.valueOf(rich.getData(MIMEType.TEXT_PLAIN)));
        for (String type : types) {
            MIMEType mime = MIMEType.parse(type);
            if (!mime.equals(MIMEType.TEXT_PLAIN) && rich.hasDataForType(mime)) {
                out.putData(mime, rich.getData(mime));
            }
        }
        return out;
    }

    private DisplayData renderRich(Object value) {
        try {
            if (isA(value.getClass(), RELATION)) {
                DisplayData data = new DisplayData(value.toString());
                data.putHTML(tableHtml(value));
                return data;
            }
            if (isA(value.getClass(), FIGURE)) {
                DisplayData data = new DisplayData("plotly figure (tablesaw-jsplot)");
                data.putHTML(figureHtml(value));
                return data;
            }
        } catch (ReflectiveOperationException e) {
            // an incompatible Tablesaw version: fall back to basekernel's text rendering
            return null;
        }
        return null;
    }

    static boolean isA(Class<?> type, String className) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (c.getName().equals(className)) {
                return true;
            }
        }
        return false;
    }

    /** An HTML table of a Tablesaw Table or TableSlice. */
    static String tableHtml(Object table) throws ReflectiveOperationException {
        int rows = (int) call(table, "rowCount");
        int columns = (int) call(table, "columnCount");
        String name = (String) call(table, "name");
        int shownColumns = Math.min(columns, MAX_COLUMNS);
        Object[] cols = new Object[shownColumns];
        StringBuilder html = new StringBuilder("<div class=\"arena-table\"><table class=\"dataframe\" border=\"1\">");
        if (name != null && !name.isBlank()) {
            html.append("<caption style=\"caption-side:top;text-align:left\">").append(escape(name)).append("</caption>");
        }
        html.append("<thead><tr style=\"text-align:right\"><th></th>");
        for (int c = 0; c < shownColumns; c++) {
            cols[c] = call(table, "column", new Class<?>[] {int.class}, c);
            html.append("<th>").append(escape((String) call(cols[c], "name"))).append("</th>");
        }
        if (shownColumns < columns) {
            html.append("<th>&hellip;</th>");
        }
        html.append("</tr></thead><tbody>");
        boolean cut = rows > FULL_ROWS;
        for (int r = 0; r < rows; r++) {
            if (cut && r == HEAD_ROWS) {
                html.append("<tr><th>&hellip;</th>")
                        .append("<td>&hellip;</td>".repeat(shownColumns + (shownColumns < columns ? 1 : 0)))
                        .append("</tr>");
                r = rows - TAIL_ROWS;
            }
            html.append("<tr><th>").append(r).append("</th>");
            for (int c = 0; c < shownColumns; c++) {
                String cell = (String) call(cols[c], "getString", new Class<?>[] {int.class}, r);
                html.append("<td>").append(escape(shorten(cell))).append("</td>");
            }
            if (shownColumns < columns) {
                html.append("<td>&hellip;</td>");
            }
            html.append("</tr>");
        }
        html.append("</tbody></table><p>").append(rows).append(rows == 1 ? " row" : " rows")
                .append(" &times; ").append(columns).append(columns == 1 ? " column" : " columns")
                .append("</p></div>");
        return html.toString();
    }

    /** A tablesaw-jsplot figure as a div and the script that draws it, with plotly.js when this cell carries it. */
    String figureHtml(Object figure) throws ReflectiveOperationException {
        String id = "plot_" + UUID.randomUUID().toString().replace("-", "");
        String div = (String) call(figure, "divString", new Class<?>[] {String.class}, id);
        String script = (String) call(figure, "asJavascript", new Class<?>[] {String.class}, id);
        return "<div class=\"arena-figure\">" + plotly.figure(id, div, script) + "</div>";
    }

    private static String shorten(String s) {
        if (s == null) {
            return "";
        }
        return s.length() <= MAX_CELL_CHARS ? s : s.substring(0, MAX_CELL_CHARS - 1) + "\u2026";
    }

    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                default -> out.append(ch);
            }
        }
        return out.toString();
    }

    private static Object call(Object target, String method) throws ReflectiveOperationException {
        return call(target, method, new Class<?>[0]);
    }

    private static Object call(Object target, String method, Class<?>[] types, Object... args)
            throws ReflectiveOperationException {
        Method m = publicMethod(target.getClass(), method, types);
        return m.invoke(target, args);
    }

    /** The method as declared by a public class or interface (the runtime class may be non-public). */
    private static Method publicMethod(Class<?> type, String name, Class<?>[] types) throws NoSuchMethodException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (java.lang.reflect.Modifier.isPublic(c.getModifiers())) {
                try {
                    return c.getMethod(name, types);
                } catch (NoSuchMethodException ignored) {
                    // keep looking up the hierarchy
                }
            }
            for (Class<?> i : List.of(c.getInterfaces())) {
                try {
                    return i.getMethod(name, types);
                } catch (NoSuchMethodException ignored) {
                    // next interface
                }
            }
        }
        throw new NoSuchMethodException(type.getName() + "." + name);
    }
}
