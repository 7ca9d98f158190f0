namespace SharpSeek.Tests.Structured;

/// <summary>
/// Schemas the validity checks run: together they use every supported keyword. Every string is bounded (maxLength,
/// enum, pattern or format) because a model with nearly uniform logits almost never picks a closing quote: among
/// 129k tokens only a handful close a string, so an unbounded string would run to max_tokens.
/// </summary>
public static class SchemaCases
{
    public static readonly (string Name, string Schema)[] All =
    [
        ("person", """
            {"type":"object","properties":{
              "name":{"type":"string","minLength":1,"maxLength":12},
              "age":{"type":"integer","minimum":0,"maximum":150},
              "email":{"type":"string","pattern":"^[a-z]{1,8}@[a-z]{1,8}\\.(com|org)$"}},
             "required":["name","age","email"],"additionalProperties":false}
            """),
        ("status", """
            {"type":"object","properties":{
              "status":{"enum":["active","inactive","banned"]},
              "verified":{"type":"boolean"},
              "note":{"type":["string","null"],"maxLength":8},
              "level":{"const":3}},
             "required":["status","verified","note"],"additionalProperties":false}
            """),
        ("address", """
            {"type":"object","properties":{
              "street":{"type":"string","maxLength":10},
              "city":{"type":"string","maxLength":10},
              "zip":{"type":"string","pattern":"^\\d{5}$"},
              "geo":{"type":"object","properties":{"lat":{"type":"number"},"lon":{"type":"number"}},"required":["lat","lon"],"additionalProperties":false}},
             "required":["city"],"additionalProperties":false}
            """),
        ("orders", """
            {"type":"array","minItems":1,"maxItems":3,"items":{"type":"object","properties":{
              "id":{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":1000},
              "tags":{"type":"array","maxItems":3,"items":{"type":"string","minLength":1,"maxLength":6}}},
             "required":["id","tags"],"additionalProperties":false}}
            """),
        ("shape", """
            {"anyOf":[
              {"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"integer","minimum":1,"maximum":99}},"required":["kind","r"],"additionalProperties":false},
              {"type":"object","properties":{"kind":{"const":"rect"},"w":{"type":"integer","minimum":1},"h":{"type":"integer","maximum":-1}},"required":["kind","w","h"],"additionalProperties":false}]}
            """),
        ("tree", """
            {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{
              "value":{"type":"integer","minimum":-5,"maximum":5},
              "children":{"type":"array","maxItems":1,"items":{"$ref":"#/$defs/node"}}},
             "required":["value","children"],"additionalProperties":false}}}
            """),
        ("tuple", """
            {"type":"array","prefixItems":[{"type":"string","maxLength":5},{"type":"integer"},{"type":"boolean"}],"items":false,"minItems":2}
            """),
        ("formats", """
            {"type":"object","properties":{
              "id":{"type":"string","format":"uuid"},
              "when":{"type":"string","format":"date-time"},
              "day":{"type":"string","format":"date"},
              "ip":{"type":"string","format":"ipv4"},
              "mail":{"type":"string","format":"email"}},
             "required":["id","when","day","ip","mail"],"additionalProperties":false}
            """),
        ("merged", """
            {"allOf":[{"$ref":"#/$defs/base"},{"required":["b"]}],
             "$defs":{"base":{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":4},"c":{"type":"boolean"}},"additionalProperties":false}}}
            """),
        ("scalars", """
            {"type":"object","properties":{
              "n":{"type":"number"},
              "i":{"type":"integer"},
              "z":{"type":"null"},
              "choice":{"enum":[1,"two",[3],{"four":4},null,true]},
              "code":{"type":"string","pattern":"^[A-Z]{3}-\\d{2,3}$"}},
             "required":["n","i","z","choice","code"],"additionalProperties":false}
            """),
        ("matrix", """
            {"type":"object","properties":{"rows":{"type":"array","minItems":1,"maxItems":3,"items":{"type":"array","minItems":2,"maxItems":2,"items":{"type":"integer","minimum":0,"maximum":9}}}},"required":["rows"],"additionalProperties":false}
            """),
        ("map", """
            {"type":"object","additionalProperties":{"type":"integer","minimum":0,"maximum":99},"description":"a map; its keys are free strings"}
            """),
    ];

    /// <summary>The cases that only bounded strings appear in (the map's keys are free strings).</summary>
    public static IEnumerable<(string Name, string Schema)> Bounded => All.Where(c => c.Name != "map");
}
