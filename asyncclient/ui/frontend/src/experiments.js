// #/ : the experiments list — create, rename, delete, restore, and open one or several together.
import * as api from "./api.js";
import { clear, errorBox, fmtTime, h, setStatus } from "./dom.js";

export async function experimentsPage(root) {
  const state = { showDeleted: false, selected: new Set() };
  const list = h("div", {});
  const nameInput = h("input", { type: "text", placeholder: "New experiment name", "aria-label": "New experiment name", id: "new-experiment-name" });
  const createForm = h("form", { class: "inline", onsubmit: async (e) => {
    e.preventDefault();
    const name = nameInput.value.trim();
    if (!name) return;
    try { await api.post("experiments/create", { name }); nameInput.value = ""; await render(); }
    catch (err) { setStatus(err.message, true); }
  } }, nameInput, h("button", { type: "submit" }, "Create"));
  const bar = h("div", { class: "toolbar" },
    createForm,
    h("button", { type: "button", id: "compare-experiments", onclick: () => {
      const ids = [...state.selected];
      if (ids.length === 1) location.hash = `#/experiments/${ids[0]}`;
      else if (ids.length > 1) location.hash = `#/compare-experiments/s?experiments=${encodeURIComponent(JSON.stringify(ids))}`;
    } }, "Show runs of selected"),
    h("button", { type: "button", id: "delete-experiments", onclick: () => bulk("experiments/delete") }, "Delete selected"),
    h("button", { type: "button", id: "restore-experiments", onclick: () => bulk("experiments/restore") }, "Restore selected"),
    h("label", {}, h("input", { type: "checkbox", id: "show-deleted", onchange: (e) => { state.showDeleted = e.target.checked; render(); } }), " show deleted"));
  clear(root).append(h("h1", {}, "Experiments"), bar, list);

  async function bulk(path) {
    try {
      for (const id of state.selected) await api.post(path, { experiment_id: id });
      state.selected.clear();
      await render();
    } catch (err) { setStatus(err.message, true); }
  }

  function renameCell(exp, cell) {
    const input = h("input", { type: "text", value: exp.name, "aria-label": "New name" });
    const form = h("form", { class: "inline", onsubmit: async (e) => {
      e.preventDefault();
      try { await api.post("experiments/update", { experiment_id: exp.experiment_id, new_name: input.value }); await render(); }
      catch (err) { setStatus(err.message, true); }
    } }, input, h("button", { type: "submit" }, "Save"), h("button", { type: "button", onclick: render }, "Cancel"));
    clear(cell).append(form);
    input.focus();
  }

  async function render() {
    let exps;
    try { exps = await api.searchExperiments(state.showDeleted ? "ALL" : "ACTIVE_ONLY"); }
    catch (err) { clear(list).append(errorBox(err)); return; }
    const rows = exps.map((exp) => {
      const nameCell = h("td", {}, h("a", { href: `#/experiments/${exp.experiment_id}`, class: "exp-link" }, exp.name));
      return h("tr", { class: exp.lifecycle_stage === "deleted" ? "deleted" : "" },
        h("td", {}, h("input", { type: "checkbox", "aria-label": `select ${exp.name}`, checked: state.selected.has(exp.experiment_id),
          onchange: (e) => { e.target.checked ? state.selected.add(exp.experiment_id) : state.selected.delete(exp.experiment_id); } })),
        nameCell,
        h("td", {}, exp.experiment_id),
        h("td", {}, fmtTime(exp.creation_time)),
        h("td", {}, fmtTime(exp.last_update_time)),
        h("td", {}, exp.lifecycle_stage),
        h("td", {}, h("button", { type: "button", class: "small", onclick: () => renameCell(exp, nameCell) }, "Rename")));
    });
    clear(list).append(h("table", { class: "grid", id: "experiments-table" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Name"), h("th", {}, "ID"), h("th", {}, "Created"),
        h("th", {}, "Last modified"), h("th", {}, "Stage"), h("th", {}, ""))),
      h("tbody", {}, rows)));
    setStatus(`${exps.length} experiments`);
  }
  await render();
}
