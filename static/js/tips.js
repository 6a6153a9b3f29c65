// Tip editor: fill the slug from an English title until the editor types a slug
// of their own. Japanese titles are left to the server (tip-YYYYMMDD-xxxx).
(function () {
  "use strict";
  var title = document.getElementById("title");
  var slug = document.getElementById("slug");
  if (!title || !slug) return;
  var touched = slug.value !== "";
  slug.addEventListener("input", function () { touched = slug.value !== ""; });
  title.addEventListener("input", function () {
    if (touched) return;
    var text = title.value.normalize("NFKC");
    if (/[^\x00-\x7f]/.test(text)) {
      slug.value = "";
      slug.placeholder = "空欄のまま保存すると自動で作成します";
      return;
    }
    slug.value = text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
  });
})();
