// Tiny DOM helpers: build elements, and write text/attributes only when they change (the views are
// re-rendered every second; untouched nodes keep focus and cost nothing).

/** h("div", {class: "x", dataset: {a: 1}, text: "hi"}, ...children) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c != null) el.append(c);
  return el;
}

export function setText(el, text) {
  const s = text == null ? "" : String(text);
  if (el.textContent !== s) el.textContent = s;
}

/** Set (string) or remove (null/undefined/false) an attribute. */
export function setAttr(el, name, value) {
  if (value == null || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else {
    const s = value === true ? "" : String(value);
    if (el.getAttribute(name) !== s) el.setAttribute(name, s);
  }
}
