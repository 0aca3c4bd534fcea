"""Sphinx configuration of the course website (built by site/build.py, which copies this file into the source dir).

Everything a page loads lies under _static/: the theme's own files, and in _static/vendor/ what site/vendor.py
packed from npm (require.js, the ipywidgets html-manager that renders the embedded widget state, MathJax 3).
"""

import os

project = "Deep Learning Architectures, interactive"
author = "the course authors"
copyright = "the course authors, MIT licence"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "_notebooks/**", "**.ipynb_checkpoints"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# The notebooks were executed by site/build.py with their widget state stored; Sphinx only renders them.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# No CDN: the widget manager, its loader and the math renderer come from _static/vendor/.
nb_ipywidgets_js = {
    "vendor/require.js": {},
    "widgets_paths.js": {},  # tells requirejs where the manager's modules (and so its fonts) live
    "vendor/html-manager/embed-amd.js": {"data-jupyter-widgets-cdn": "_static/vendor/"},
}
mathjax_path = "vendor/mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "use_download_button": False,  # each chapter page links its clean notebook instead (site/build.py)
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
html_last_updated_fmt = None
html_context = {"default_mode": "light", "course_mode": os.environ.get("COURSE_SITE_MODE", "")}


def setup(app):
    # The theme's Font Awesome script swaps every <i class="fa ..."> for an <svg>; the widgets' Play button then
    # loses the <i> it updates (a JavaScript error that also stops the browser-side links). 'nest' keeps the <i>.
    app.add_js_file(None, body="window.FontAwesomeConfig = {autoReplaceSvg: 'nest'};", priority=100)
    # After MathJax (priority 500), deferred like it: the html-manager's MathJax 2 call, answered by MathJax 3.
    app.add_js_file("mathjax_hub_shim.js", priority=900, loading_method="defer")
