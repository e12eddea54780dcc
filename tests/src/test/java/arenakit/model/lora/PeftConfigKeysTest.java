package arenakit.model.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.util.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** adapter_config.json keys this reader does not know: accepted at an off value, refused at any other. */
class PeftConfigKeysTest {

    private static ObjectNode config() {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("peft_type", "LORA").put("r", 4).put("lora_alpha", 8).put("task_type", "SEQ_CLS");
        n.putArray("target_modules").add("q_proj");
        n.putArray("modules_to_save").add("score");
        return n;
    }

    @Test
    void aNewerPeftKeyAtItsOffValueIsAccepted() {
        ObjectNode n = config();
        n.putNull("some_future_option");
        n.put("another_future_flag", false);
        n.putArray("future_list");
        n.put("future_mode", "none");
        PeftAdapter.Parsed p = PeftAdapter.parseConfig(n);
        assertEquals(4, p.config().r());
    }

    @Test
    void anUnknownKeyThatIsOnIsRefusedByName() {
        ObjectNode n = config();
        n.put("some_future_option", true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PeftAdapter.parseConfig(n));
        assertTrue(e.getMessage().contains("[some_future_option]") && e.getMessage().contains("not off"),
                e.getMessage());
    }
}
