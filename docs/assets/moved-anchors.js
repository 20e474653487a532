// Old links keep working (issue 22). A section that moved to another page, or whose heading
// (hence its anchor) changed, keeps its published address: moved-anchors.json, beside this
// script, maps "old-page/#old-anchor" to "new-page/#new-anchor", both relative to the site's
// root; a whole page that went away maps as "old-page/" and its address shows the 404 page.
// A reader who arrives at an anchor this page does not have (or at the 404 page of a moved
// page) is sent on to the new place. The map is fetched only then, never on an ordinary visit.
(() => {
  const root = new URL("..", document.currentScript.src); // this script sits in <root>/assets/
  let table = null;
  const moves = () => {
    table ??= fetch(new URL("assets/moved-anchors.json", root))
      .then((response) => (response.ok ? response.json() : {}))
      .catch(() => ({}));
    return table;
  };
  const follow = async () => {
    if (!location.pathname.startsWith(root.pathname)) return;
    const page = location.pathname.slice(root.pathname.length).replace(/index\.html$/, "");
    const anchor = decodeURIComponent(location.hash.slice(1));
    const missing = anchor !== "" && document.getElementById(anchor) === null;
    const notFound = /^404\b/.test(document.querySelector(".md-content h1")?.textContent ?? "");
    if (!missing && !notFound) return;
    const table = await moves();
    const one = missing && table[`${page}#${anchor}`];
    const whole = notFound && table[page];
    if (!one && !whole) return;
    const to = new URL(one || whole, root);
    if (!one && location.hash) to.hash = location.hash; // a moved page keeps its anchors
    location.replace(to.href);
  };
  document$.subscribe(follow); // every page, instant navigation included
  addEventListener("hashchange", follow);
})();
