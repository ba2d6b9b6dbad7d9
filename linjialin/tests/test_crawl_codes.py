"""What the demo-site crawler counts as an internal code in visible text (demo_site/crawl.py)."""

from linjialin.tests.demo_site.crawl import internal_codes


def test_codes_and_template_syntax_are_found_and_words_are_not():
    assert internal_codes("已受理 co_requester_joined") == ["co_requester_joined"]
    assert internal_codes("诉求: request.accept") == ["request.accept"]
    assert internal_codes("{# The household picker (places/picker.py) #}") == ["{#", "#}"]
    assert internal_codes("{{ field.label }} {% translate %}") == ["field.label", "{{", "}}", "{%", "%}"]
    assert internal_codes("邻家邻 · 13800000001 · www.example.com · e.g. 50% · #3 · {1}") == []
