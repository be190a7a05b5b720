package dev.virtman.bench.storm;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * A JFR event spanning one strategy's run (from the storm's start to its last VM's end), so a
 * recording of a whole bench can be cut to one strategy: {@code virtman bench profile --window tree}.
 * Costs nothing when no recording runs.
 */
@Name(StrategyEvent.NAME)
@Label("Storm strategy")
@Category("VirtMan")
@Description("One boot-storm strategy's run")
final class StrategyEvent extends jdk.jfr.Event {
    static final String NAME = "dev.virtman.StormStrategy";

    @Label("Strategy")
    String strategy;
}
