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
    const seek = () => playFrom(player, parseFloat(line.dataset.start));
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

document.addEventListener("DOMContentLoaded", () => {
  setUpResults();
  setUpTranscript();
});
