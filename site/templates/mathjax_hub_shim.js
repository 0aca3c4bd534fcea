/* The ipywidgets html-manager typesets HTML and Label widgets through MathJax 2's MathJax.Hub.Queue; the site
   renders math with MathJax 3, which has no Hub. This gives MathJax 3 the one call the manager makes. Loaded
   deferred after MathJax (site/conf.py), so window.MathJax is MathJax 3 itself, not its configuration. */
(function () {
  var mj = window.MathJax;
  if (!mj || !mj.version || mj.Hub) return;
  mj.Hub = {
    Queue: function (job) {
      var el = job && job[2];
      mj.startup.promise.then(function () { return mj.typesetPromise(el ? [el] : undefined); })
        .catch(function (err) { console.warn("MathJax could not typeset a widget:", err); });
    }
  };
})();
