// Display formulas are built with tabindex="0" (hooks/katex.py) so that a keyboard can reach
// and scroll one that is wider than its column. A formula that fits needs no tab stop, so it
// loses it here, and gets it back when the window narrows, an exercise opens or a tab switches.
// Without JavaScript every formula simply stays focusable.
(() => {
  const update = () => {
    for (const box of document.querySelectorAll(".md-typeset .math")) {
      if (box.scrollWidth > box.clientWidth) box.setAttribute("tabindex", "0");
      else box.removeAttribute("tabindex");
    }
  };
  document$.subscribe(update); // every page, instant navigation included
  // KaTeX's fonts may arrive after the page is shown, and widen a formula past its column then
  document.fonts.addEventListener("loadingdone", update);
  document.fonts.ready.then(update);
  addEventListener("resize", update);
  document.addEventListener("toggle", update, true);
  document.addEventListener("change", update);
})();
