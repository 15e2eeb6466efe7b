// Render the math that pymdownx.arithmatex (generic mode) leaves in the page:
// inline math as <span class="arithmatex">\(...\)</span>, display math as
// <div class="arithmatex">\[...\]</div>. KaTeX and its auto-render extension are
// loaded before this file (see extra_javascript in mkdocs.yml).
(function () {
  "use strict";

  function render(root) {
    if (typeof renderMathInElement !== "function") {
      return;
    }
    var nodes = (root || document).querySelectorAll(".arithmatex");
    for (var i = 0; i < nodes.length; i++) {
      renderMathInElement(nodes[i], {
        delimiters: [
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true }
        ],
        throwOnError: false
      });
    }
  }

  if (typeof document$ !== "undefined") {
    // Material for MkDocs: fires on the first load and after each instant navigation.
    document$.subscribe(function () { render(document); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { render(document); });
  } else {
    render(document);
  }
})();
