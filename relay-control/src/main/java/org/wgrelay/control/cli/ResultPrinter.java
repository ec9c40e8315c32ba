package org.wgrelay.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Renders a verb's result for a person: a list of objects as a table, a rendered
 * config verbatim, anything else as {@code key value} lines.
 */
final class ResultPrinter {
    private ResultPrinter() {}

    static void print(JsonNode result, PrintStream out) {
        if (result == null || result.isNull()) {
            return;
        }
        if (!result.isObject()) {
            out.println(text(result));
            return;
        }
        if (result.has("config") && result.get("config").isTextual()) {
            out.print(result.get("config").asText());
            return;
        }
        if (result.has("verbs") && result.get("verbs").isArray()) {
            verbs(result.get("verbs"), out);
            return;
        }
        if (result.size() == 1) {
            JsonNode only = result.elements().next();
            if (only.isArray()) {
                table(only, out);
                return;
            }
            if (only.isObject()) {
                keyValues(only, out);
                return;
            }
        }
        keyValues(result, out);
    }

    /** {@code help}: one usage line per verb with its role and description. */
    private static void verbs(JsonNode verbs, PrintStream out) {
        for (JsonNode v : verbs) {
            StringBuilder usage = new StringBuilder(v.path("verb").asText());
            for (JsonNode a : v.path("args")) {
                String name = a.path("name").asText();
                usage.append(' ').append(a.path("required").asBoolean() ? "<" + name + ">" : "[" + name + "]");
            }
            out.println(pad(usage.toString(), 44) + "  " + pad(v.path("role").asText(), 8) + "  "
                    + v.path("description").asText());
        }
    }

    private static void keyValues(JsonNode obj, PrintStream out) {
        int width = 0;
        for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
            width = Math.max(width, it.next().length());
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.println(pad(e.getKey(), width) + "  " + text(e.getValue()));
        }
    }

    private static void table(JsonNode rows, PrintStream out) {
        if (rows.isEmpty()) {
            out.println("(none)");
            return;
        }
        if (!rows.get(0).isObject()) {
            for (JsonNode r : rows) {
                out.println(text(r));
            }
            return;
        }
        List<String> columns = new ArrayList<>();
        rows.get(0).fieldNames().forEachRemaining(columns::add);
        int[] widths = new int[columns.size()];
        for (int c = 0; c < columns.size(); c++) {
            widths[c] = columns.get(c).length();
            for (JsonNode r : rows) {
                widths[c] = Math.max(widths[c], text(r.get(columns.get(c))).length());
            }
        }
        StringBuilder header = new StringBuilder();
        for (int c = 0; c < columns.size(); c++) {
            header.append(c == 0 ? "" : "  ").append(pad(columns.get(c).toUpperCase(java.util.Locale.ROOT), widths[c]));
        }
        out.println(header.toString().stripTrailing());
        for (JsonNode r : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < columns.size(); c++) {
                line.append(c == 0 ? "" : "  ").append(pad(text(r.get(columns.get(c))), widths[c]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String text(JsonNode v) {
        if (v == null || v.isNull()) {
            return "-";
        }
        if (v.isValueNode()) {
            return v.asText();
        }
        return v.toString();
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }
}
