/* Loaded after require.js and before the ipywidgets html-manager (site/conf.py). The manager finds its fonts next
   to the URL requirejs gives its modules ('@jupyter-widgets/...'), so map that name to the vendored folder beside
   this file: the Font Awesome fonts of the widget buttons then load from _static/vendor/html-manager/. */
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  window.require.config({ paths: { "@jupyter-widgets": here + "vendor/html-manager" } });
})();
