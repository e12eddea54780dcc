package arenakit.text;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A model family's chat template around the one user turn every format uses, then the assistant turn's opening and
 * the format's verdict cue: a named strategy chosen by the base model's {@code model_type} ({@link #forModelType})
 * or by name in configs ({@link #forName}).
 *
 * <table>
 * <caption>templates</caption>
 * <tr><th>name</th><th>input</th></tr>
 * <tr><td>{@code gemma}</td><td>{@code <bos><start_of_turn>user\n ... <end_of_turn>\n<start_of_turn>model\n} cue</td></tr>
 * <tr><td>{@code llama3}</td><td>{@code <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n ...
 *     <|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n} cue</td></tr>
 * <tr><td>{@code qwen2.5}</td><td>{@code <|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a
 *     helpful assistant.<|im_end|>\n<|im_start|>user\n ... <|im_end|>\n<|im_start|>assistant\n} cue</td></tr>
 * <tr><td>{@code qwen2}</td><td>the same with Qwen2's default system message {@code You are a helpful
 *     assistant.}</td></tr>
 * <tr><td>{@code chatml}</td><td>{@code <|im_start|>user\n ... <|im_end|>\n<|im_start|>assistant\n} cue (no system
 *     turn)</td></tr>
 * </table>
 *
 * <p>The text is what each model's Hugging Face template ({@code apply_chat_template} with
 * {@code add_generation_prompt=True}) produces for one user message, with the cue after it. Llama-3's template trims
 * the message, so {@code llama3} strips the whitespace at the outer ends of the format's prefix and suffix; Gemma's
 * template trims too, but {@code gemma} keeps the format's closing newline, as this project's Gemma inputs always
 * had. Special tokens are {@link Segment#special} segments, placed by id; the text after a special token is joined
 * with the format's text next to it into one segment (the role line and the instruction, the role line and the cue),
 * as it appears in the template string.
 */
public final class ChatTemplate {
    public static final ChatTemplate GEMMA = new ChatTemplate("gemma",
            List.of(Segment.special("<bos>")),
            List.of(Segment.special("<start_of_turn>"), Segment.fixed("user\n")),
            List.of(Segment.special("<end_of_turn>"), Segment.fixed("\n")),
            List.of(Segment.special("<start_of_turn>"), Segment.fixed("model\n")), false);
    public static final ChatTemplate LLAMA3 = new ChatTemplate("llama3",
            List.of(Segment.special("<|begin_of_text|>")),
            header("user"),
            List.of(Segment.special("<|eot_id|>")),
            header("assistant"), true);
    /** Qwen2.5's default system message, which its template adds when a conversation has none. */
    public static final String QWEN2_5_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
    /** Qwen2's default system message. */
    public static final String QWEN2_SYSTEM = "You are a helpful assistant.";
    public static final ChatTemplate QWEN2_5 = chatml("qwen2.5", QWEN2_5_SYSTEM);
    public static final ChatTemplate QWEN2 = chatml("qwen2", QWEN2_SYSTEM);
    public static final ChatTemplate CHATML = chatml("chatml", null);

    private final String name;
    private final List<Segment> start;
    private final List<Segment> userOpen;
    private final List<Segment> userClose;
    private final List<Segment> assistantOpen;
    private final boolean trim;

    private ChatTemplate(String name, List<Segment> start, List<Segment> userOpen, List<Segment> userClose,
            List<Segment> assistantOpen, boolean trim) {
        this.name = name;
        this.start = List.copyOf(start);
        this.userOpen = List.copyOf(userOpen);
        this.userClose = List.copyOf(userClose);
        this.assistantOpen = List.copyOf(assistantOpen);
        this.trim = trim;
    }

    private static List<Segment> header(String role) {
        return List.of(Segment.special("<|start_header_id|>"), Segment.fixed(role), Segment.special("<|end_header_id|>"),
                Segment.fixed("\n\n"));
    }

    private static ChatTemplate chatml(String name, String system) {
        List<Segment> start = system == null ? List.of() : List.of(Segment.special("<|im_start|>"),
                Segment.fixed("system\n" + system), Segment.special("<|im_end|>"), Segment.fixed("\n"));
        return new ChatTemplate(name, start,
                List.of(Segment.special("<|im_start|>"), Segment.fixed("user\n")),
                List.of(Segment.special("<|im_end|>"), Segment.fixed("\n")),
                List.of(Segment.special("<|im_start|>"), Segment.fixed("assistant\n")), false);
    }

    /** The name used in configs and in a trained stage's {@code encoding.json}. */
    public String name() {
        return name;
    }

    /** The whole input: prefix (template start, user turn opening, format prefix), body, suffix (ending in the cue). */
    public Layout wrap(Prompt p) {
        List<Segment> prefix = new ArrayList<>(start);
        prefix.addAll(join(userOpen, trim ? p.prefix().stripLeading() : p.prefix()));
        List<Segment> suffix = new ArrayList<>();
        String close = trim ? p.suffix().stripTrailing() : p.suffix();
        if (!close.isEmpty()) {
            suffix.add(Segment.fixed(close));
        }
        suffix.addAll(userClose);
        suffix.addAll(opening(p.cue()));
        return new Layout(prefix, p.body(), suffix);
    }

    /** The segments every input ends with: the assistant turn's opening and the cue. */
    public List<Segment> opening(String cue) {
        return join(assistantOpen, cue);
    }

    /** Every special token the template places (the tokenizer must have each). */
    public List<String> specialTokens() {
        Set<String> out = new LinkedHashSet<>();
        for (List<Segment> part : List.of(start, userOpen, userClose, assistantOpen)) {
            part.stream().filter(s -> s.kind() == Segment.Kind.SPECIAL).forEach(s -> out.add(s.text()));
        }
        return List.copyOf(out);
    }

    /** {@code segments} with {@code text} appended to the last one when it is text, else as a segment of its own. */
    private static List<Segment> join(List<Segment> segments, String text) {
        List<Segment> out = new ArrayList<>(segments);
        Segment last = out.get(out.size() - 1);
        if (last.kind() == Segment.Kind.FIXED) {
            out.set(out.size() - 1, Segment.fixed(last.text() + text));
        } else if (!text.isEmpty()) {
            out.add(Segment.fixed(text));
        }
        return out;
    }

    @Override
    public String toString() {
        return name;
    }

    /** The templates by config name: {@code gemma}, {@code llama3}, {@code qwen2.5}, {@code qwen2}, {@code chatml}. */
    public static ChatTemplate forName(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (ChatTemplate t : all()) {
            if (t.name.equals(key)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown chat template '" + name + "'; valid names: "
                + String.join(", ", names()));
    }

    public static List<ChatTemplate> all() {
        return List.of(GEMMA, LLAMA3, QWEN2_5, QWEN2, CHATML);
    }

    public static List<String> names() {
        return all().stream().map(ChatTemplate::name).toList();
    }

    /**
     * The family template whose special tokens {@code tokenizer} has ({@code gemma}, else {@code llama3}, else
     * {@code qwen2.5}): for tools that only have a tokenizer, such as the EDA's token counts.
     */
    public static ChatTemplate of(Tokenizer tokenizer) {
        for (ChatTemplate t : List.of(GEMMA, LLAMA3, QWEN2_5)) {
            if (t.specialTokens().stream().allMatch(s -> tokenizer.find(s).isPresent())) {
                return t;
            }
        }
        throw new IllegalArgumentException(tokenizer.file() + " has the special tokens of no chat template ("
                + String.join(", ", names()) + ")");
    }

    /**
     * The template of a model family by its config.json {@code model_type}: {@code gemma2} and {@code gemma} use
     * {@code gemma}, {@code llama} (Llama-3, Llama-3.1, Llama-architecture reward models) {@code llama3}, {@code qwen2}
     * (Qwen2 and Qwen2.5 share the type) {@code qwen2.5}. Other types need an explicit template.
     */
    public static ChatTemplate forModelType(String modelType) {
        String key = modelType == null ? "" : modelType.trim().toLowerCase(Locale.ROOT);
        return switch (key) {
            case "gemma2", "gemma" -> GEMMA;
            case "llama" -> LLAMA3;
            case "qwen2" -> QWEN2_5;
            default -> throw new IllegalArgumentException("no chat template is known for model_type '" + modelType
                    + "': name one (template: " + String.join(", ", names()) + ")");
        };
    }
}
