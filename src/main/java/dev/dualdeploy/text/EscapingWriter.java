package dev.dualdeploy.text;

import java.io.PrintWriter;
import java.io.Writer;

/**
 * A writer for text results on a terminal: every character written is {@link Text#escape escaped}, so that no value
 * it interpolates (a version annotation, a platform's message, an image another writer set) can carry an escape
 * sequence, a bidi override or a line break; lines end only where {@code println} ends one. So one printed record is
 * one line, whatever the values in it. Not for JSON, whose own escaping keeps it on its lines.
 */
public final class EscapingWriter extends PrintWriter {

    /** @param out where the escaped text goes; flushed at each {@code println} */
    public EscapingWriter(Writer out) {
        super(out, true);
    }

    @Override
    public void write(int c) {
        write(String.valueOf((char) c));
    }

    @Override
    public void write(char[] buffer, int offset, int length) {
        write(new String(buffer, offset, length));
    }

    @Override
    public void write(String text, int offset, int length) {
        // print, printf and format all come here; println's line break does not (PrintWriter writes it to the target).
        String escaped = Text.escape(text.substring(offset, offset + length));
        super.write(escaped, 0, escaped.length());
    }
}
