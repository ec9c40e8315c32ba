package org.wgrelay.control.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One parsed request line.
 *
 * @param id the client's id, echoed as given (any JSON scalar; JSON null when absent)
 * @param verb the verb's words, e.g. {@code wg link add}
 * @param args the arguments, all strings
 * @param token the operator token, or null
 */
public record ControlRequest(JsonNode id, String verb, List<String> args, String token) {}
