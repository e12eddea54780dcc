package arenakit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MagicTransformerTest {
    private static final String CALL = "io.github.spencerpark.ijava.runtime.Magics.lineMagic";
    private final MagicTransformer transformer = new MagicTransformer();

    @Test
    void lineMagicsBecomeCallsInCellOrder() {
        String cell = "%maven org.a:b:1.0 org.c:d:jar:linux-x86_64:2.0\nint x = 1;\n%jars /kaggle/input/*.jar";
        assertEquals(CALL + "(\"maven\", java.util.List.of(\"org.a:b:1.0\", \"org.c:d:jar:linux-x86_64:2.0\"));\n"
                + "int x = 1;\n" + CALL + "(\"jars\", java.util.List.of(\"/kaggle/input/*.jar\"));",
                transformer.transform(cell));
    }

    @Test
    void aMagicCanBeAssignedAndQuotedArgumentsKeepTheirSpaces() {
        assertEquals("List<String> added = " + CALL + "(\"jars\", java.util.List.of(\"my dir/a.jar\", \"b.jar\"));",
                transformer.transform("List<String> added = %jars \"my dir/a.jar\" b.jar"));
    }

    @Test
    void javaThatLooksLikeAMagicIsLeftAlone() {
        String code = "int r = a % b;\nString s = \"a = %maven not.a:magic:1\";\nx %= 3;";
        assertEquals(code, transformer.transform(code));
    }

    @Test
    void cellMagicsAreRejectedWithAClearMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> transformer.transform("%%loadFromPOM\n<dependency/>"));
        assertTrue(e.getMessage().contains("%%loadFromPOM") && e.getMessage().contains("%maven"), e.getMessage());
    }

    @Test
    void literalsEscapeWhatJavaNeeds() {
        assertEquals("\"a\\\"b\\\\c\\n\\u0001\"", MagicTransformer.literal("a\"b\\c\n\u0001"));
    }
}
