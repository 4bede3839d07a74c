package dev.dualdeploy.journal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.text.Text;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns events into one line of JSON and back. Each line is an object whose {@code "type"} is the event's
 * {@link Event.Type} name and whose other keys are the record's components, in order; an empty {@code Optional} is JSON
 * null (never a missing key), a {@link Side} its label, an instant and a duration their ISO-8601 text. Keys a newer
 * version added are ignored; a type this version does not know is an error that names it.
 *
 * <p>Done by hand over the record components rather than by Jackson's record support, because the events carry
 * {@code Optional}s (Jackson needs a module this build does not have for them) and because the discriminator, the
 * null-for-empty rule and the errors are the journal's format, which should not shift with a Jackson upgrade.
 */
final class EventCodec {

    /** The JSON mapper of journal lines: ASCII only, with every control character and DEL escaped. */
    static final ObjectMapper JSON = mapper();

    private static final Map<String, Class<? extends Event>> TYPES = types();

    private EventCodec() {
    }

    /** The event as one line of JSON, without a line break. */
    static String encode(Event event) {
        return write(tree(event));
    }

    /** How far {@link #cut} shortens: the longest string kept, in characters, and the most items of a list, each step. */
    private static final int[][] CUTS = {{4096, 1000}, {1024, 100}, {256, 20}, {64, 5}};

    /**
     * The event as one line of at most {@code maxBytes} bytes, for an event too long to journal whole: every string
     * longer than a limit is cut to it and ends saying how much was left out, every list of strings longer than a limit
     * keeps its first items and one saying how many more there were, and the line says {@code "cut": true} (a key that
     * readers ignore). The limits shrink until the line fits; an event that does not fit even then is replaced by a
     * notice of the same run, instant, stage and side saying so. The run, the instant and the type are never cut.
     */
    static String cut(Event event, int maxBytes) {
        ObjectNode whole = tree(event);
        for (int[] limit : CUTS) {
            ObjectNode cut = JSON.createObjectNode();
            whole.fields().forEachRemaining(field -> cut.set(field.getKey(), Set.of("type", "run", "at").contains(field.getKey())
                    ? field.getValue() : shorten(field.getValue(), limit[0], limit[1])));
            cut.put("cut", true);
            String line = write(cut);
            if (line.length() <= maxBytes) {
                return line;
            }
        }
        Event notice = new Event.Notice(event.run(), event.at(), event.stage(), event.side(), "a " + event.type() + " event too large"
                + " to journal even cut (" + encode(event).length() + " bytes); its progress line said it");
        return write(tree(notice).put("cut", true));
    }

    private static JsonNode shorten(JsonNode value, int chars, int items) {
        if (value.isTextual() && value.asText().length() > chars) {
            String text = value.asText();
            int end = Character.isHighSurrogate(text.charAt(chars - 1)) ? chars - 1 : chars;
            return JSON.getNodeFactory().textNode(text.substring(0, end) + "… (cut: " + (text.length() - end) + " more characters)");
        }
        if (value.isArray()) {
            ArrayNode list = JSON.createArrayNode();
            for (int i = 0; i < Math.min(items, value.size()); i++) {
                list.add(shorten(value.get(i), chars, items));
            }
            if (value.size() > items) {
                list.add("… (cut: " + (value.size() - items) + " more items)");
            }
            return list;
        }
        return value;
    }

    private static String write(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            // Jackson's message may quote the value it choked on, which came from outside: the event's type says enough.
            throw new IllegalStateException("a " + node.path("type").asText("?") + " event could not be written as JSON", e);
        }
    }

    /** The event as a JSON object, {@code type} first. */
    static ObjectNode tree(Event event) {
        ObjectNode node = JSON.createObjectNode().put("type", event.type());
        for (RecordComponent component : event.getClass().getRecordComponents()) {
            Object value;
            try {
                value = component.getAccessor().invoke(event);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("cannot read " + component.getName() + " of " + event.type(), e);
            }
            if (value instanceof Optional<?> optional) {
                value = optional.orElse(null);
            }
            node.set(component.getName(), value == null ? NullNode.getInstance() : JSON.valueToTree(value));
        }
        return node;
    }

    /**
     * Reads one line back into its event.
     *
     * @param where the file and line, such as {@code .dualdeploy/journal/x.jsonl: line 3}, for errors
     * @throws JournalException if the line is not a JSON object, names an unknown type, or misses or mistypes a field
     */
    static Event decode(String line, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            // Jackson's message quotes the text around the fault; the journal may hold reasons a person wrote, so only
            // the position is said.
            throw new JournalException(where + ": not a JSON object (a corrupt line)");
        }
        if (root == null || !root.isObject()) {
            throw new JournalException(where + ": not a JSON object (a corrupt line)");
        }
        JsonNode typeNode = root.get("type");
        if (typeNode == null || !typeNode.isTextual()) {
            throw new JournalException(where + ": the event has no \"type\"");
        }
        String type = typeNode.asText();
        Class<? extends Event> cls = TYPES.get(type);
        if (cls == null) {
            throw new JournalException(where + ": unknown event type '" + Text.line(type, 80)
                    + "' (written by a newer dualdeploy? this one knows " + String.join(", ", TYPES.keySet()) + ")");
        }
        RecordComponent[] components = cls.getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent component = components[i];
            types[i] = component.getType();
            args[i] = field(root.get(component.getName()), component, type, where);
        }
        try {
            Constructor<? extends Event> constructor = cls.getDeclaredConstructor(types);
            return constructor.newInstance(args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            String problem = cause instanceof NullPointerException && cause.getMessage() != null
                    ? "the field '" + cause.getMessage() + "' is missing"
                    : cause instanceof JournalException ? "the field 'run' is not a run id" : "a field is invalid";
            throw new JournalException(where + ": a " + type + " event that cannot be read: " + problem);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + cls.getSimpleName(), e);
        }
    }

    /** All event type names this version knows, in declaration order. */
    static Set<String> typeNames() {
        return TYPES.keySet();
    }

    private static Object field(JsonNode node, RecordComponent component, String type, String where) {
        boolean absent = node == null || node.isNull();
        Type generic = component.getGenericType();
        try {
            if (component.getType() == Optional.class) {
                Type inner = ((ParameterizedType) generic).getActualTypeArguments()[0];
                return absent ? Optional.empty() : Optional.of(JSON.treeToValue(node, JSON.constructType(inner)));
            }
            if (absent) {
                if (component.getType().isPrimitive()) {
                    throw new JournalException(where + ": a " + type + " event that cannot be read: the field '"
                            + component.getName() + "' is missing");
                }
                return null;
            }
            return JSON.treeToValue(node, JSON.constructType(generic));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new JournalException(where + ": a " + type + " event that cannot be read: the field '" + component.getName()
                    + "' is not a " + JSON.constructType(generic).toCanonical().replaceAll("[a-z]+\\.", ""));
        }
    }

    private static Map<String, Class<? extends Event>> types() {
        Map<String, Class<? extends Event>> types = new LinkedHashMap<>();
        for (Class<?> permitted : Event.class.getPermittedSubclasses()) {
            Class<? extends Event> type = permitted.asSubclass(Event.class);
            if (types.put(Event.typeName(type), type) != null) {
                throw new IllegalStateException("two event records are named " + Event.typeName(type));
            }
        }
        return Collections.unmodifiableMap(types);
    }

    private static ObjectMapper mapper() {
        SimpleModule sides = new SimpleModule("journal-sides");
        sides.addSerializer(Side.class, new JsonSerializer<>() {
            @Override
            public void serialize(Side side, JsonGenerator out, SerializerProvider provider) throws IOException {
                out.writeString(side.label());
            }
        });
        sides.addDeserializer(Side.class, new JsonDeserializer<>() {
            @Override
            public Side deserialize(JsonParser in, DeserializationContext context) throws IOException {
                return Side.fromLabel(in.getValueAsString());
            }
        });
        JsonFactory factory = JsonFactory.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
        factory.setCharacterEscapes(new AsciiEscapes());
        return new ObjectMapper(factory).registerModule(new JavaTimeModule()).registerModule(sides)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS);
    }

    /**
     * Escapes every non-ASCII character and DEL as {@code \\uXXXX} (JSON already escapes the C0 controls), so that a
     * journal file or history's JSON shown with {@code cat} can neither rewrite the terminal nor reorder it with a
     * bidirectional override. Lossless: a JSON reader gets the same string back.
     */
    private static final class AsciiEscapes extends CharacterEscapes {
        private final int[] ascii;

        AsciiEscapes() {
            ascii = standardAsciiEscapesForJSON();
            ascii[0x7f] = ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return null;
        }
    }
}
