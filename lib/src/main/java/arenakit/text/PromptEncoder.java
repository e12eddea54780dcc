package arenakit.text;

import arenakit.data.Conversation;
import arenakit.util.Progress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns conversations into model inputs: a {@link PromptFormat} inside a model family's {@link ChatTemplate}, tokenized
 * with that model's tokenizer, and cut by a {@link Truncation} so the whole input (template, instruction,
 * conversation, verdict cue) is at most {@link #maxLength()} real tokens of that tokenizer.
 *
 * <p>Segments are tokenized separately and concatenated by id (the way the chat template's special tokens must be
 * placed anyway), so the count the budget checks is exactly what the model sees. Format text is tokenized once and
 * cached. Thread-safe.
 */
public final class PromptEncoder {
    private static final Logger LOG = LoggerFactory.getLogger(PromptEncoder.class);
    /** Marks where the proportional policy removed text. */
    public static final String ELLIPSIS = "......";

    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final PromptFormat format;
    private final Truncation truncation;
    private final int maxLength;
    private final int[] ellipsis;
    private final Map<String, int[]> fixedCache = new ConcurrentHashMap<>();

    /** An encoder in the Gemma chat template. */
    public PromptEncoder(Tokenizer tokenizer, PromptFormat format, Truncation truncation, int maxLength) {
        this(tokenizer, ChatTemplate.GEMMA, format, truncation, maxLength);
    }

    /**
     * @param maxLength the token budget; rounded down to a multiple of 16 ({@link #roundMaxLength})
     * @throws IllegalArgumentException when the tokenizer lacks one of the template's special tokens (a tokenizer and a
     *     template of different model families)
     */
    public PromptEncoder(Tokenizer tokenizer, ChatTemplate template, PromptFormat format, Truncation truncation,
            int maxLength) {
        for (String special : template.specialTokens()) {
            if (tokenizer.find(special).isEmpty()) {
                throw new IllegalArgumentException("chat template " + template.name() + " needs the token " + special
                        + ", which " + tokenizer.file() + " does not have: the tokenizer and the template belong to "
                        + "different model families");
            }
        }
        this.tokenizer = tokenizer;
        this.template = template;
        this.format = format;
        this.truncation = truncation;
        this.maxLength = roundMaxLength(maxLength);
        this.ellipsis = tokenizer.encode(ELLIPSIS);
    }

    /** By config names in the Gemma template, e.g. {@code of(tok, "pab", "proportional", 3072)}. */
    public static PromptEncoder of(Tokenizer tokenizer, String format, String truncation, int maxLength) {
        return of(tokenizer, ChatTemplate.GEMMA.name(), format, truncation, maxLength);
    }

    /** By config names, e.g. {@code of(tok, "llama3", "pab", "proportional", 3072)}. */
    public static PromptEncoder of(Tokenizer tokenizer, String template, String format, String truncation,
            int maxLength) {
        return new PromptEncoder(tokenizer, ChatTemplate.forName(template), PromptFormat.forName(format),
                Truncation.forName(truncation), maxLength);
    }

    /**
     * {@code requested} rounded down to a multiple of 16 (shapes that suit GPU kernels; the silver team's 3072 is
     * one), with a warning when it changes. Below 16 is an error.
     */
    public static int roundMaxLength(int requested) {
        if (requested < 16) {
            throw new IllegalArgumentException("max_length " + requested + " is too small: it must be at least 16");
        }
        int rounded = requested / 16 * 16;
        if (rounded != requested) {
            LOG.warn("max_length {} is not a multiple of 16; using {} (rounded down)", requested, rounded);
        }
        return rounded;
    }

    public int maxLength() {
        return maxLength;
    }

    public ChatTemplate template() {
        return template;
    }

    public PromptFormat format() {
        return format;
    }

    public Truncation truncation() {
        return truncation;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The ids every input ends with: the template's assistant-turn opening and the format's cue. */
    public int[] verdictCueIds() {
        List<int[]> parts = resolve(template.opening(format.verdictCue()));
        int[] out = new int[length(parts)];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** One model input (one tokenizer call for the row's fields). */
    public int[] encode(Conversation c) {
        Layout layout = format.layout(c, template);
        List<String> fields = new ArrayList<>();
        collectFields(layout, fields);
        return assemble(c, layout, tokenizer.encodeBatch(fields), 0);
    }

    /** Rows per native batch call in {@link #encodeAll(List)}. */
    public static final int ROWS_PER_CALL = 256;

    /** Inputs for many rows, with a progress bar: {@link #encodeAll(List, int)} with {@value #ROWS_PER_CALL}. */
    public List<int[]> encodeAll(List<Conversation> rows) {
        return encodeAll(rows, ROWS_PER_CALL);
    }

    /**
     * Inputs for many rows, with a progress bar. The fields of {@code rowsPerCall} rows go to the tokenizer in one
     * native batch call, which tokenizes them on all cores: 10-16% faster than one call per row on 2 cores
     * (docs/benchmarks.md), though on a machine oversubscribed by other jobs large batches measured up to 2x
     * slower, where {@code rowsPerCall = 1} is the better choice.
     */
    public List<int[]> encodeAll(List<Conversation> rows, int rowsPerCall) {
        if (rowsPerCall < 1) {
            throw new IllegalArgumentException("rowsPerCall must be >= 1, got " + rowsPerCall);
        }
        List<int[]> out = new ArrayList<>(rows.size());
        try (Progress progress = Progress.start("tokenize (" + format.name() + ")", rows.size(), "row")) {
            for (int from = 0; from < rows.size(); from += rowsPerCall) {
                List<Conversation> chunk = rows.subList(from, Math.min(rows.size(), from + rowsPerCall));
                List<Layout> layouts = new ArrayList<>(chunk.size());
                int[] firstField = new int[chunk.size()];
                List<String> fields = new ArrayList<>();
                for (int i = 0; i < chunk.size(); i++) {
                    layouts.add(format.layout(chunk.get(i), template));
                    firstField[i] = fields.size();
                    collectFields(layouts.get(i), fields);
                }
                List<int[]> ids = tokenizer.encodeBatch(fields);
                for (int i = 0; i < chunk.size(); i++) {
                    out.add(assemble(chunk.get(i), layouts.get(i), ids, firstField[i]));
                }
                progress.stepBy(chunk.size());
            }
        }
        return out;
    }

    /**
     * The length {@link #encode} gives {@code c} when nothing is cut, with each field's token count taken from
     * {@code fieldLength} instead of the tokenizer: for callers that have the counts already (the EDA counts every
     * field anyway). Exact, because {@link #encode} also tokenizes each field on its own. {@code fieldLength}
     * receives the field's text as the format shows it (a {@code null} turn as "null").
     */
    public int untruncatedLength(Conversation c, ToIntFunction<String> fieldLength) {
        Layout layout = format.layout(c, template);
        int n = 0;
        for (List<Segment> part : List.of(layout.prefix(), layout.body(), layout.suffix())) {
            for (Segment s : part) {
                n += s.kind() == Segment.Kind.FIELD ? fieldLength.applyAsInt(s.text()) : resolve(s).length;
            }
        }
        return n;
    }

    /** The input as text (special tokens shown), for looking at what the model gets. */
    public String render(Conversation c) {
        return tokenizer.decode(encode(c));
    }

    private static void collectFields(Layout layout, List<String> into) {
        for (Segment s : layout.body()) {
            if (s.kind() == Segment.Kind.FIELD) {
                into.add(s.text());
            }
        }
    }

    private int[] assemble(Conversation c, Layout layout, List<int[]> fieldIds, int firstField) {
        List<int[]> prefix = resolve(layout.prefix());
        List<int[]> suffix = resolve(layout.suffix());
        int fixedLength = length(prefix) + length(suffix);
        int budget = maxLength - fixedLength;
        if (budget < 0) {
            throw new IllegalArgumentException("max_length " + maxLength + " is too small for format "
                    + format.name() + " in template " + template.name() + ": its template, instruction and cue alone take " + fixedLength + " tokens");
        }
        List<Truncation.Piece> body = new ArrayList<>(layout.body().size());
        int f = firstField;
        for (Segment s : layout.body()) {
            int[] ids = s.kind() == Segment.Kind.FIELD ? fieldIds.get(f++) : resolve(s);
            body.add(new Truncation.Piece(ids, s.kind() == Segment.Kind.FIELD, s.turn()));
        }
        List<int[]> fitted;
        try {
            fitted = truncation.fit(body, budget, ellipsis);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("row " + c.id() + " (format " + format.name() + ", max_length "
                    + maxLength + "): " + e.getMessage(), e);
        }
        int total = fixedLength + length(fitted);
        if (total > maxLength) {
            throw new IllegalStateException("truncation " + truncation.name() + " returned " + total
                    + " tokens for row " + c.id() + ", over max_length " + maxLength);
        }
        int[] out = new int[total];
        int at = 0;
        for (List<int[]> part : List.of(prefix, fitted, suffix)) {
            for (int[] ids : part) {
                System.arraycopy(ids, 0, out, at, ids.length);
                at += ids.length;
            }
        }
        return out;
    }

    private List<int[]> resolve(List<Segment> segments) {
        List<int[]> out = new ArrayList<>(segments.size());
        for (Segment s : segments) {
            out.add(resolve(s));
        }
        return out;
    }

    private int[] resolve(Segment s) {
        return switch (s.kind()) {
            case SPECIAL -> new int[] {tokenizer.id(s.text())};
            case FIXED -> fixed(s.text());
            case FIELD -> throw new IllegalStateException("fields are tokenized in batches");
        };
    }

    private int[] fixed(String text) {
        return fixedCache.computeIfAbsent(text, tokenizer::encode);
    }

    private static int length(List<int[]> parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        return n;
    }
}
