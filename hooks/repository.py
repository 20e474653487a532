"""The repository and the licence, linked without a request to another host.

* With ``repo_url`` set (the workflow sets it), the footer's "MIT licence" links to the
  repository's ``LICENSE``; a local build without it names the licence without a link.
* Material's header (and its mobile drawer) links to ``repo_url``, and its JavaScript then asks
  ``api.github.com`` for the repository's stars and forks from every reader's browser. This
  site makes no request to another host, so the link stays and the request goes: the link
  loses ``data-md-component="source"``, which is what that JavaScript looks for. The link and
  its styling (class ``md-source``) are unchanged.
"""

LICENCE = "MIT licence"
SOURCE = 'class="md-source" data-md-component="source"'


def on_config(config, **kwargs):
    if config.repo_url and config.copyright and LICENCE in config.copyright:
        link = f'<a href="{config.repo_url.rstrip("/")}/blob/HEAD/LICENSE">{LICENCE}</a>'
        config.copyright = config.copyright.replace(LICENCE, link, 1)
    return config


def on_post_page(output, **kwargs):
    return output.replace(SOURCE, 'class="md-source"')


def on_post_template(output, template_name, **kwargs):
    return output.replace(SOURCE, 'class="md-source"')  # 404.html
