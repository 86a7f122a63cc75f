// heard's pages need little script: play a quote from its start, and seek the transcript's audio.
"use strict";

// Seek first, then play: setting currentTime before the metadata is known is not honoured everywhere.
function playFrom(audio, seconds) {
  const go = () => {
    audio.currentTime = seconds;
    audio.play().catch(() => { audio.controls = true; });
  };
  if (audio.readyState >= 1) go();
  else {
    audio.addEventListener("loadedmetadata", go, { once: true });
    audio.preload = "auto";
    audio.load();
  }
}

function setUpResults() {
  document.querySelectorAll(".card .play").forEach((button) => {
    const audio = button.closest(".card").querySelector("audio");
    button.addEventListener("click", () => {
      // One voice at a time: pause whatever else plays.
      document.querySelectorAll("audio").forEach((other) => { if (other !== audio) other.pause(); });
      audio.controls = true;
      playFrom(audio, parseFloat(button.dataset.start));
    });
  });
}

function setUpTranscript() {
  const player = document.getElementById("player");
  const lines = Array.from(document.querySelectorAll(".transcript .line"));
  const quote = document.querySelector(".transcript .line.quote");
  if (quote) quote.scrollIntoView({ block: "center" });
  if (!player) return;
  if (player.dataset.start) {
    const start = parseFloat(player.dataset.start);
    const seek = () => { player.currentTime = start; };
    if (player.readyState >= 1) seek(); else player.addEventListener("loadedmetadata", seek, { once: true });
  }
  lines.forEach((line) => {
    // A click that ends selecting words (to save them) is not a seek.
    const seek = () => { if (window.getSelection().isCollapsed) playFrom(player, parseFloat(line.dataset.start)); };
    line.addEventListener("click", seek);
    line.addEventListener("keydown", (event) => { if (event.key === "Enter") seek(); });
  });
  // Follow along: mark the line being spoken.
  player.addEventListener("timeupdate", () => {
    const now = player.currentTime;
    lines.forEach((line) => {
      line.classList.toggle("playing", parseFloat(line.dataset.start) <= now && now < parseFloat(line.dataset.end));
    });
  });
}

// Save: a quote's Save form, and the form for words selected on a recording's page, post to
// /collections/save and say where the quote went without leaving the page. The collection last
// saved to is offered first; the others come from /api/collections.
function collectionNames() {
  let list = document.getElementById("collection-names");
  if (list) return;
  list = document.createElement("datalist");
  list.id = "collection-names";
  document.body.appendChild(list);
  fetch("/api/collections", { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : []))
    .then((found) => found.forEach((collection) => {
      const option = document.createElement("option");
      option.value = collection.name;
      list.appendChild(option);
    }))
    .catch(() => {});
}

function say(form, text, link, failed) {
  let status = form.querySelector(".save-status");
  if (!status) {
    status = document.createElement("span");
    status.className = "save-status";
    status.setAttribute("role", "status");
    form.appendChild(status);
  }
  status.classList.toggle("error", Boolean(failed));
  status.textContent = text + (link ? " " : "");
  if (link) {
    const open = document.createElement("a");
    open.href = link;
    open.textContent = "Open";
    status.appendChild(open);
  }
}

function postForm(form) {
  const body = new URLSearchParams(new FormData(form));
  return fetch(form.action, { method: "POST", body, headers: { Accept: "application/json" } })
    .then((response) => response.json().then((answer) => ({ ok: response.ok, answer })));
}

function setUpSaving() {
  const forms = document.querySelectorAll("form.save");
  if (!forms.length) return;
  collectionNames();
  const last = localStorage.getItem("heard-collection") || "";
  forms.forEach((form) => {
    const to = form.querySelector('input[name="to"]');
    if (to && !to.value) to.value = last;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      postForm(form).then(({ ok, answer }) => {
        if (!ok) { say(form, answer.detail || "Not saved", null, true); return; }
        localStorage.setItem("heard-collection", answer.collection);
        say(form, answer.message, answer.link, false);
      }).catch(() => say(form, "Not saved: the server did not answer", null, true));
    });
  });
}

// On a recording's page: selecting words offers to save them, from the first word's start to
// the last word's end (a line without word times stands for its words).
function selectedSpan() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  const transcript = document.querySelector(".transcript");
  if (!transcript || !transcript.contains(range.commonAncestorContainer)) return null;
  const words = Array.from(transcript.querySelectorAll(".w")).filter((w) => range.intersectsNode(w));
  if (words.length) {
    const text = words.map((w) => w.textContent).join("").trim();
    return { start: words[0].dataset.s, end: words[words.length - 1].dataset.e, text };
  }
  const lines = Array.from(transcript.querySelectorAll(".line")).filter((l) => range.intersectsNode(l));
  if (!lines.length) return null;
  const text = lines.map((l) => l.querySelector(".text").textContent.trim()).join(" ");
  return { start: lines[0].dataset.start, end: lines[lines.length - 1].dataset.end, text };
}

function setUpSelection() {
  const form = document.getElementById("save-selection");
  if (!form) return;
  document.addEventListener("selectionchange", () => {
    if (form.contains(document.activeElement)) return;  // typing the collection's name
    const span = selectedSpan();
    if (!span) { form.hidden = true; return; }
    form.elements.start.value = span.start;
    form.elements.end.value = span.end;
    const preview = span.text.length > 80 ? span.text.slice(0, 77) + "…" : span.text;
    form.querySelector(".selection-text").textContent = "“" + preview + "”";
    const status = form.querySelector(".save-status");
    if (status) status.remove();
    form.hidden = false;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpResults();
  setUpTranscript();
  setUpSaving();
  setUpSelection();
});
