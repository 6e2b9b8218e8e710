// The door notice's Print button (no inline handlers under the pages' CSP).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
