/* The resident's pages in large text from the first paint, for a reader who chose it (appeals-m.js keeps
   the choice): loaded in <head> without defer, so the small page never flashes. */
try {
  if (localStorage.getItem("gz-large-font") === "1") document.documentElement.classList.add("large-font");
} catch (e) { /* private mode: the normal size */ }
