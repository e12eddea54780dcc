package io.github.spencerpark.ijava.runtime;

import arenakit.kernel.ArenaKernel;
import java.util.List;

/**
 * IJava's programmatic access to magics: {@code %jars a/*.jar} in a cell is rewritten to
 * {@code lineMagic("jars", List.of("a/*.jar"))}, which also makes {@code List<String> added = %jars a/*.jar} work.
 */
public final class Magics {
    private Magics() {}

    /** Runs a line magic; the return type is whatever the magic returns (an unchecked cast, as in IJava). */
    public static <T> T lineMagic(String name, List<String> args) {
        return ArenaKernel.current().applyLineMagic(name, args);
    }
}
