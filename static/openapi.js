// Renders Viva's OpenAPI document as a browsable page: operations, sockets, schemas.
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, attrs);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};
const refName = (ref) => ref.split("/").pop();
const link = (schema) => {
  if (schema && schema.$ref) {
    const name = refName(schema.$ref);
    return el("a", { href: `#schema-${name}`, textContent: name });
  }
  return el("code", { textContent: JSON.stringify(schema) });
};

function operation(method, path, op) {
  const params = (op.parameters || []).map((p) =>
    el("tr", {}, el("td", { textContent: p.name }), el("td", { textContent: p.in }),
      el("td", { textContent: p.required ? "yes" : "no" }),
      el("td", {}, el("code", { textContent: JSON.stringify(p.schema) }))));
  const body = op.requestBody
    ? Object.entries(op.requestBody.content).map(([type, media]) =>
      el("p", {}, `Body (${type}${op.requestBody.required ? "" : ", optional"}): `,
        link(media.schema)))
    : [];
  const responses = Object.entries(op.responses).map(([status, r]) =>
    el("li", {}, el("b", { textContent: status }), ` ${r.description} `,
      r.content ? link(r.content["application/json"].schema) : null));
  return el("details", { className: "op" },
    el("summary", {}, el("span", { className: "method", textContent: method.toUpperCase() }),
      ` ${path} — ${op.summary}`),
    params.length ? el("table", {}, el("tr", {}, ...["name", "in", "required", "schema"]
      .map((h) => el("th", { textContent: h }))), ...params) : null,
    ...body, el("ul", {}, ...responses));
}

async function main() {
  const doc = await (await fetch("/api/openapi.json")).json();
  const rest = document.getElementById("rest");
  rest.replaceChildren(...Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => operation(method, path, op))));
  document.getElementById("sockets").replaceChildren(
    ...Object.entries(doc["x-websockets"] || {}).map(([path, socket]) =>
      el("details", { className: "op" },
        el("summary", {}, el("span", { className: "method", textContent: "WS" }),
          ` ${path} — ${socket.summary}`),
        el("p", {}, "Client messages: ",
          ...socket.client_messages.flatMap((m, i) => [i ? ", " : "", link(m)])))));
  document.getElementById("schemas").replaceChildren(
    ...Object.entries(doc.components.schemas).map(([name, schema]) =>
      el("details", { className: "op", id: `schema-${name}` },
        el("summary", { textContent: name }),
        el("pre", { textContent: JSON.stringify(schema, null, 2) }))));
  if (location.hash) document.querySelector(location.hash)?.setAttribute("open", "");
}

main().catch((error) => {
  document.getElementById("rest").textContent = `Could not load the document: ${error}`;
});
