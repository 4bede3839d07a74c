package dev.dualdeploy.journal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The journal's JSON for its readers ({@code history --output json}, later the reports): an event as the journal file
 * holds it, and a document written with the journal's escaping (ASCII only, every control character escaped).
 */
public final class JournalJson {

    private JournalJson() {
    }

    /** An event as a JSON object, exactly as a journal line holds it ({@code type} first). */
    public static ObjectNode tree(Event event) {
        return EventCodec.tree(event);
    }

    /** An empty JSON object to build a document on. */
    public static ObjectNode object() {
        return EventCodec.JSON.createObjectNode();
    }

    /** A document as indented JSON, escaped as journal lines are. */
    public static String pretty(ObjectNode document) {
        try {
            return EventCodec.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(document);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written: " + e.getOriginalMessage(), e);
        }
    }
}
