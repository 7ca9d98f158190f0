using SharpSeek.Chat;
using SharpSeek.Chat.Jinja;

namespace SharpSeek.Tests.Chat;

/// <summary>The Jinja engine's semantics (Jinja2 as transformers configures it), its errors, and content ranges through every string operation.</summary>
public sealed class JinjaTemplateTests
{
    private static string R(string template, params (string Name, object? Value)[] vars) =>
        JinjaTemplate.Parse(template).Render(vars.ToDictionary(v => v.Name, v => v.Value)).Value;

    private static JinjaString C(string s) => JinjaString.FromContent(s);

    [Theory]
    [InlineData("{{ 1 + 2 * 3 }}", "7")]
    [InlineData("{{ 7 // 2 }} {{ 7 / 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }}", "3 3.5 -4 1 1024")]
    [InlineData("{{ 'a' ~ 1 ~ none }}", "a1None")]
    [InlineData("{{ [1, 2, 3][-1] }}{{ 'abc'[::-1] }}{{ 'abcdef'[1:4] }}{{ [1,2,3,4][::2] }}", "3cbabcd[1, 3]")]
    [InlineData("{{ 'x' if false }}|{{ 'y' if true else 'n' }}", "|y")]
    [InlineData("{{ not 1 in [1, 2] }} {{ 3 not in [1] }} {{ 'b' in 'abc' }}", "False True True")]
    [InlineData("{% for x in [1,2,3] %}{{ loop.index }}/{{ loop.revindex0 }}{{ ',' if not loop.last }}{% endfor %}", "1/2,2/1,3/0")]
    [InlineData("{% for x in [] %}a{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for x in [1,2,3,4] if x is odd %}{{ x }}{% endfor %}", "13")]
    [InlineData("{% for x in [1,2,3,4] %}{% if x == 3 %}{% break %}{% endif %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}", "2")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;")]
    [InlineData("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1")]
    [InlineData("{% set ns = namespace(x=1) %}{% for i in [1] %}{% set ns.x = 2 %}{% endfor %}{{ ns.x }}", "2")]
    [InlineData("{% macro f(a, b='B') %}[{{ a }}{{ b }}]{% endmacro %}{{ f(1) }}{{ f(1, b=2) }}", "[1B][12]")]
    [InlineData("{{ '  x  '.strip() }}|{{ '\\n\\nx \\n'.strip('\\n') }}|{{ 'xxaxx'.lstrip('x') }}|{{ 'a,b,,c'.split(',') }}", "x|x |axx|['a', 'b', '', 'c']")]
    [InlineData("{{ 'a b  c'.split() }}{{ 'a</think>b</think>c'.split('</think>', 1) }}{{ 'aXbXc'.rsplit('X', 1) }}", "['a', 'b', 'c']['a', 'b</think>c']['aXb', 'c']")]
    [InlineData("{{ 'Hello'.startswith(('x', 'He')) }} {{ 'abc'.replace('b', 'B') }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'hi there'.title() }}", "True aBc bba Hi There")]
    [InlineData("{{ [3,1,2] | sort | join('-') }} {{ ['a','b'] | length }} {{ {'a':1} | length }} {{ 'é🤖' | length }}", "1-2-3 2 1 2")]
    [InlineData("{{ [{'n':'a','k':1},{'n':'b'}] | selectattr('k') | map(attribute='n') | list }}", "['a']")]
    [InlineData("{{ [{'n':'a','k':1},{'n':'b'}] | rejectattr('k', 'defined') | map(attribute='n') | first }}", "b")]
    [InlineData("{{ undefined_thing | default('d') }} {{ '' | default('e', true) }} {{ none is none }} {{ x is defined }}", "d e True False")]
    [InlineData("{{ {'b': 1, 'a': [1, 'x', none, true]} | tojson }}", """{"b": 1, "a": [1, "x", null, true]}""")]
    [InlineData("{{ {'b': 1, 'a': 2} | tojson(indent=2, sort_keys=true) }}", "{\n  \"a\": 2,\n  \"b\": 1\n}")]
    [InlineData("{{ 'é\"\\n' | tojson }}{{ 'é' | tojson(ensure_ascii=true) }}", "\"é\\\"\\n\"\"\\u00e9\"")]
    [InlineData("{{ 0.5 }} {{ 2.0 }} {{ 1e20 }} {{ 10 / 4 }}", "0.5 2.0 1e+20 2.5")]
    [InlineData("{{ none | trim }}|{{ true }}|{{ [1, 'a'] }}", "None|True|[1, 'a']")]
    [InlineData("{% raw %}{{ not parsed }}{% endraw %}", "{{ not parsed }}")]
    [InlineData("{% generation %}kept{% endgeneration %}", "kept")]
    [InlineData("{% set s %}block {{ 1 }}{% endset %}{{ s | upper }}", "BLOCK 1")]
    [InlineData("{{ range(3) | list }} {{ range(1, 7, 2) | list }}", "[0, 1, 2] [1, 3, 5]")]
    [InlineData("{{ 'abc' | reverse }} {{ 'abc' | first }} {{ [1,2] | last }} {{ 'a' * 3 }}", "cba a 2 aaa")]
    public void Evaluates_like_jinja2(string template, string expected) => Assert.Equal(expected, R(template));

    [Fact]
    public void Whitespace_control_trim_and_lstrip_blocks()
    {
        // trim_blocks drops the newline after a block tag; lstrip_blocks drops the indentation before one; '-' strips all.
        Assert.Equal("    a\nb\n", R("{% if true %}\n    a\n{% endif %}\n  {%- if true %}\nb\n{% endif %}\n\n"));
        Assert.Equal("x  y", R("  {% if true %}x{% endif %}  {% if true %}y{% endif %}\n"));
        Assert.Equal("x  y", R("x  {{ '' }}y"));
        Assert.Equal("12", R("{% for i in [1, 2] -%}\n   {{ i }}\n{%- endfor %}"));
        Assert.Equal("  1", R("  {{ 1 }}"));
        Assert.Equal("a", R("{# comment #}\na"));
    }

    [Theory]
    [InlineData("{% extends 'base' %}", "extends", 1, 4)]
    [InlineData("ok\n  {{ x | wordwrap }}", "filter 'wordwrap'", 2, 10)]
    [InlineData("{% if x is callableish %}{% endif %}", "test 'callableish'", 1, 12)]
    [InlineData("{% call f() %}{% endcall %}", "call", 1, 4)]
    [InlineData("{{ '%s' % 1 }}", "printf-style string formatting ('...' % value)", 1, 9)]
    [InlineData("{{ 'x'.format(1) }}", "str.format", 1, 8)]
    public void Unsupported_constructs_name_themselves_and_their_position(string template, string construct, int line, int column)
    {
        var e = Assert.ThrowsAny<JinjaUnsupportedException>(() => R(template, ("x", 1L), ("f", null)));
        Assert.Equal(construct, e.Construct);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains("--chat-format", e.Message);
    }

    [Theory]
    [InlineData("{% if x %}", "missing")]
    [InlineData("{{ (1 }}", "unclosed expression")]
    [InlineData("{{ (1 ] }}", "expected ')'")]
    [InlineData("{{ 'abc }}", "unterminated string")]
    [InlineData("{% for %}", "expected a loop variable")]
    public void Syntax_errors_are_clear(string template, string message)
    {
        var e = Assert.ThrowsAny<JinjaException>(() => JinjaTemplate.Parse(template));
        Assert.Contains(message, e.Message);
        Assert.True(e.Line >= 1);
    }

    [Fact]
    public void Raise_exception_carries_the_templates_message()
    {
        var e = Assert.Throws<JinjaRaisedException>(() => R("{{ raise_exception('Conversation roles must alternate user/assistant') }}"));
        Assert.Equal("Conversation roles must alternate user/assistant", e.Message);
        Assert.IsAssignableFrom<SharpSeekException>(e);
    }

    [Fact]
    public void Content_ranges_survive_string_operations()
    {
        var t = JinjaTemplate.Parse(
            "<S>{{ m }}</S>§{{ m[1:4] }}§{{ m.split('|')[1] }}§{{ m.upper().strip() }}§{{ m.replace('b', '<X>') }}§{{ ('[' ~ m ~ ']') | trim }}§{{ {'k': m} | tojson }}§{{ [m, 'lit'] | join('+') }}");
        JinjaString s = t.Render(new Dictionary<string, object?> { ["m"] = C(" ab|cd ") });
        Assert.Equal("<S> ab|cd </S>§ab|§cd §AB|CD§ a<X>|cd §[ ab|cd ]§{\"k\": \" ab|cd \"}§ ab|cd +lit", s.Value);
        // c: the character came from m (content); m: from the template's literals (markup).
        string expected = string.Join("m", "mmm" + "ccccccc" + "mmmm", "ccc", "ccc", "ccccc", "cc" + "mmm" + "cccc", "m" + "ccccccc" + "m",
            "mmmmmm" + "ccccccccc" + "m", "ccccccc" + "mmmm");
        string mask = new(Enumerable.Range(0, s.Length).Select(i => s.IsContentAt(i) ? 'c' : 'm').ToArray());
        Assert.Equal(expected, mask);
    }

    [Fact]
    public void Chat_template_kwargs_cannot_replace_the_conversation()
    {
        var t = new JinjaChatTemplate("{{ messages | length }}", null, null);
        var kw = new Dictionary<string, System.Text.Json.JsonElement> { ["messages"] = System.Text.Json.JsonSerializer.SerializeToElement(1) };
        var e = Assert.Throws<SharpSeekException>(() => t.Render(new ChatPromptRequest([ChatMessage.User("x")]) { TemplateKwargs = kw }));
        Assert.Contains("'messages'", e.Message);
    }
}
