package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.infer.SubmissionConfig;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.TrainConfig;
import arenakit.util.ArenaHome;
import arenakit.util.StrictJson;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Defaults exist only where configs/README.md documents them: every record field of the config files is either
 * required or listed in the README's Defaults table with the value the reader fills in, and nothing else is.
 */
class ConfigDefaultsTest {
    @TempDir
    Path dir;

    private static final Map<String, Class<?>> FILES = Map.of("pipeline.json", ExperimentConfig.class,
            "train", TrainConfig.class, "pseudo_labels", PseudoLabelConfig.class, "submission", SubmissionConfig.class,
            "average", AverageConfig.class);

    @Test
    void theDefaultsTableAndTheCodeAgree() throws Exception {
        TreeSet<String> inCode = new TreeSet<>();
        FILES.forEach((file, type) -> collect(file, type, "", inCode));
        TreeSet<String> inReadme = new TreeSet<>();
        String readme = Files.readString(ArenaHome.find().orElseThrow().resolve("configs/README.md"));
        String table = readme.substring(readme.indexOf("## Defaults"));
        table = table.substring(0, table.indexOf("\n## ", 4) < 0 ? table.length() : table.indexOf("\n## ", 4));
        Pattern code = Pattern.compile("`([^`]+)`");
        for (String line : table.split("\n")) {
            String[] cells = line.split("\\|");
            if (!line.startsWith("| `") || cells.length < 4) {
                continue;
            }
            List<String> scopes = all(code, cells[1]);
            List<String> fields = all(code, cells[2]);
            List<String> value = all(code, cells[3]);
            if (fields.stream().anyMatch(f -> f.endsWith(".*"))) {
                continue; // the sample's options: the generator's own defaults
            }
            for (String s : scopes) {
                for (String f : fields) {
                    inReadme.add(s + " " + f + " = " + value.get(0));
                }
            }
        }
        assertEquals(inCode, inReadme, "configs/README.md's Defaults table vs the @StrictJson.Default fields");
    }

    private static List<String> all(Pattern p, String text) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static void collect(String file, Class<?> type, String path, TreeSet<String> out) {
        for (Map.Entry<String, RecordComponent> e : StrictJson.keys(type).entrySet()) {
            RecordComponent rc = e.getValue();
            String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
            StrictJson.Default d = rc.getAnnotation(StrictJson.Default.class);
            if (d != null) {
                out.add(file + " " + p + " = " + d.value());
            }
            Class<?> nested = recordIn(rc.getGenericType());
            if (nested != null) {
                // entries of a map are written "name.*.field" in the table, elements of a list "name[].field"
                Class<?> raw = rc.getType();
                String inner = Map.class.isAssignableFrom(raw) ? p + ".*" : List.class.isAssignableFrom(raw) ? p + "[]" : p;
                collect(file, nested, inner, out);
            }
        }
    }

    private static Class<?> recordIn(Type t) {
        if (t instanceof Class<?> c && c.isRecord()) {
            return c;
        }
        if (t instanceof ParameterizedType p) {
            for (Type a : p.getActualTypeArguments()) {
                Class<?> r = recordIn(a);
                if (r != null) {
                    return r;
                }
            }
        }
        return null;
    }

    /** A setup that leaves a setting to a default a shipped setup sets otherwise is told so in the log. */
    @Test
    void aDefaultThatDiffersFromTheShippedSetupsIsLogged() throws Exception {
        Path setup = Setups.copy(dir.resolve("setup"), "gemma2-9b",
                Setups.edit("stage1.json", ",\n    \"loss_scale\": \"auto\", \"loss_scale_init\": 65536, "
                        + "\"loss_scale_growth_interval\": 2000", ""),
                Setups.edit("stage2.json", "\"loss_scale_init\": 65536, ", ""));
        ConfigFolder folder = ConfigFolder.of(setup.toString());
        List<StrictJson.Defaulted> defaulted = new ArrayList<>();
        TrainConfig c = folder.read("stage1.json", TrainConfig.class, defaulted);
        assertEquals(65536.0, c.optimizer().lossScaleInit());
        assertEquals(List.of("optimizer.loss_scale", "optimizer.loss_scale_init",
                "optimizer.loss_scale_growth_interval"), defaulted.stream().map(StrictJson.Defaulted::path).toList());
        // the shipped setups agree with the defaults: nothing to say
        assertEquals(List.of(), folder.defaultNotes("stage1.json", TrainConfig.KIND, defaulted));
        // a shipped value that differs is named
        List<String> notes = folder.defaultNotes("stage1.json", TrainConfig.KIND,
                List.of(new StrictJson.Defaulted("optimizer.loss_scale_init", "1024")));
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.get(0).contains("leaves 'optimizer.loss_scale_init' to its documented default 1024, but "
                + "gemma2-9b/stage1.json sets 65536"), notes.get(0));
    }
}
