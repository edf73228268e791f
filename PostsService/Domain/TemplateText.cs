using System.Globalization;
using System.Text.RegularExpressions;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// A template's definition (docs/planning.md, "Templates"): its variables, checked when it is saved, and how its
/// texts are rendered with a post's values. Texts name variables as <c>{{name}}</c> (spaces inside the braces are
/// allowed); every other character is written as it is.
/// </summary>
public static partial class TemplateText
{
    public const int MaxVariables = 50;
    public const int MaxVariants = 4;
    public const int MaxValueLength = 4096;
    public const string DefaultDateFormat = "yyyy-MM-dd";

    /// <summary>Checks a template's variables, content and variants, naming each bad field.</summary>
    public static void CheckDefinition(Template template, FieldViolations violations)
    {
        if (template.Name.Trim().Length is < 1 or > 100)
        {
            violations.Add("template.name", "is required (1-100 characters)");
        }
        if (template.Description.Length > 1000)
        {
            violations.Add("template.description", "must be at most 1000 characters");
        }
        var declared = CheckVariables(template.Variables, "template.variables", violations);
        CheckContent(template.Content, "template.content", declared, violations);
        if (template.Variants.Count > MaxVariants)
        {
            violations.Add("template.variants", $"has more than {MaxVariants} variants");
        }
        var platforms = new HashSet<Platform>();
        for (var i = 0; i < template.Variants.Count && i < MaxVariants; i++)
        {
            var variant = template.Variants[i];
            var field = $"template.variants[{i}]";
            if (variant.Platform == Platform.Unspecified || !Enum.IsDefined(variant.Platform))
            {
                violations.Add($"{field}.platform", "must be PLATFORM_WHATSAPP or PLATFORM_INSTAGRAM");
            }
            else if (!platforms.Add(variant.Platform))
            {
                violations.Add($"{field}.platform", "has a variant already: one variant per platform");
            }
            CheckContent(variant.Content, $"{field}.content", declared, violations);
            if (variant.Content is { } content && platforms.Contains(variant.Platform))
            {
                // A variant is written for one platform: its own rules (media types, a caption on audio, an Instagram
                // post's media) are checked as it is saved, not first when a post is made from it. Texts are judged as
                // written, and again after rendering when a post is made; an Instagram variant as a feed post (the
                // channel's mode is not known yet).
                Contracts.ContentRules.CheckForChannel(content, variant.Platform, new ChannelSettings(), $"{field}.content", violations);
            }
        }
    }

    /// <summary>The declared variables by name, each checked: name syntax, distinct names, a format that fits its type, a default of its type.</summary>
    private static Dictionary<string, TemplateVariable> CheckVariables(IReadOnlyList<TemplateVariable> variables, string field, FieldViolations violations)
    {
        var declared = new Dictionary<string, TemplateVariable>(StringComparer.Ordinal);
        if (variables.Count > MaxVariables)
        {
            violations.Add(field, $"has more than {MaxVariables} variables");
        }
        for (var i = 0; i < variables.Count && i < MaxVariables; i++)
        {
            var variable = variables[i];
            var at = $"{field}[{i}]";
            if (!NamePattern().IsMatch(variable.Name))
            {
                violations.Add($"{at}.name", "must be lower-case letters, digits and _, starting with a letter (at most 64 characters), e.g. first_name");
            }
            else if (!declared.TryAdd(variable.Name, variable))
            {
                violations.Add($"{at}.name", $"'{variable.Name}' is declared twice");
            }
            if (!Enum.IsDefined(variable.Type))
            {
                violations.Add($"{at}.type", "is not a known variable type");
                continue;
            }
            if (variable.Format.Length > 0 && FormatProblem(variable) is { } formatProblem)
            {
                violations.Add($"{at}.format", formatProblem);
            }
            if (variable.HasDefaultValue && ValueProblem(variable, variable.DefaultValue) is { } defaultProblem)
            {
                violations.Add($"{at}.default_value", defaultProblem);
            }
            if (variable.Description.Length > 500)
            {
                violations.Add($"{at}.description", "must be at most 500 characters");
            }
        }
        return declared;
    }

    private static void CheckContent(Content? content, string field, IReadOnlyDictionary<string, TemplateVariable> declared, FieldViolations violations)
    {
        Contracts.ContentRules.CheckShape(content, field, violations);
        if (content is null)
        {
            return;
        }
        foreach (var (text, textField) in Texts(content, field))
        {
            foreach (Match reference in ReferencePattern().Matches(text))
            {
                var name = reference.Groups[1].Value.Trim();
                if (!NamePattern().IsMatch(name))
                {
                    violations.Add(textField, $"{reference.Value} is not a variable: names are lower-case letters, digits and _, starting with a letter");
                }
                else if (!declared.ContainsKey(name))
                {
                    violations.Add(textField, $"uses {{{{{name}}}}}, which the template does not declare in variables");
                }
            }
        }
    }

    /// <summary>
    /// The content <paramref name="template"/> gives <paramref name="platform"/> (its variant, else its content) with
    /// every <c>{{name}}</c> replaced by the value given or the variable's default. A value not declared, a variable
    /// without a value or a default, and a value not of its variable's type are each named as
    /// <c><paramref name="field"/>.name</c>.
    /// </summary>
    public static Content Render(Template template, Platform platform, IReadOnlyDictionary<string, string> values, string field,
        FieldViolations violations)
    {
        var declared = template.Variables.ToDictionary(v => v.Name, StringComparer.Ordinal);
        foreach (var name in values.Keys.Where(name => !declared.ContainsKey(name)).Order(StringComparer.Ordinal))
        {
            violations.Add($"{field}.{name}", declared.Count == 0
                ? "is not a variable of this template (it declares none)"
                : $"is not a variable of this template (it declares {string.Join(", ", declared.Keys)})");
        }
        var written = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in template.Variables)
        {
            var given = values.TryGetValue(variable.Name, out var value);
            if (!given && !variable.HasDefaultValue)
            {
                violations.Add($"{field}.{variable.Name}", "is required: the template gives it no default");
                continue;
            }
            var raw = given ? value! : variable.DefaultValue;
            if (ValueProblem(variable, raw) is { } problem)
            {
                violations.Add($"{field}.{variable.Name}", problem);
                continue;
            }
            written[variable.Name] = Write(variable, raw);
        }

        var source = template.Variants.FirstOrDefault(v => v.Platform == platform)?.Content ?? template.Content ?? new Content();
        var rendered = source.Clone();
        rendered.Text = Fill(rendered.Text, written);
        if (rendered.WhatsappTemplate is { } whatsapp)
        {
            foreach (var parameter in whatsapp.Components.SelectMany(c => c.Parameters))
            {
                parameter.Text = Fill(parameter.Text, written);
                parameter.Payload = Fill(parameter.Payload, written);
            }
        }
        return rendered;
    }

    private static string Fill(string text, IReadOnlyDictionary<string, string> written) =>
        text.Length == 0 ? text : ReferencePattern().Replace(text, reference =>
            written.TryGetValue(reference.Groups[1].Value.Trim(), out var value) ? value : reference.Value);

    /// <summary>Every text of a content that may name variables, with its field.</summary>
    private static IEnumerable<(string Text, string Field)> Texts(Content content, string field)
    {
        yield return (content.Text, $"{field}.text");
        if (content.WhatsappTemplate is not { } whatsapp)
        {
            yield break;
        }
        for (var c = 0; c < whatsapp.Components.Count; c++)
        {
            for (var p = 0; p < whatsapp.Components[c].Parameters.Count; p++)
            {
                var parameter = whatsapp.Components[c].Parameters[p];
                var at = $"{field}.whatsapp_template.components[{c}].parameters[{p}]";
                yield return (parameter.Text, $"{at}.text");
                yield return (parameter.Payload, $"{at}.payload");
            }
        }
    }

    /// <summary>Why <paramref name="value"/> is not a value of the variable's type, or null when it is.</summary>
    private static string? ValueProblem(TemplateVariable variable, string value)
    {
        if (value.Length > MaxValueLength)
        {
            return $"must be at most {MaxValueLength} characters";
        }
        return variable.Type switch
        {
            TemplateVariableType.Number when !TryNumber(value, out _) => $"must be a number written with a dot (e.g. 12 or 3.50), not '{value}'",
            TemplateVariableType.Date when !TryDate(value, out _) => $"must be a date written yyyy-MM-dd (e.g. 2026-12-24), not '{value}'",
            _ => null,
        };
    }

    private static string? FormatProblem(TemplateVariable variable)
    {
        if (variable.Format.Length > 100)
        {
            return "must be at most 100 characters";
        }
        try
        {
            _ = variable.Type switch
            {
                TemplateVariableType.Number => 1234.5m.ToString(variable.Format, CultureInfo.InvariantCulture),
                TemplateVariableType.Date => new DateOnly(2026, 12, 24).ToString(variable.Format, CultureInfo.InvariantCulture),
                _ => throw new FormatException(),
            };
            return null;
        }
        catch (FormatException)
        {
            return variable.Type is TemplateVariableType.Number or TemplateVariableType.Date
                ? $"is not a .NET {(variable.Type == TemplateVariableType.Number ? "numeric" : "date")} format"
                : "applies to number and date variables only";
        }
    }

    private static string Write(TemplateVariable variable, string value) => variable.Type switch
    {
        TemplateVariableType.Number when variable.Format.Length > 0 && TryNumber(value, out var number) =>
            number.ToString(variable.Format, CultureInfo.InvariantCulture),
        TemplateVariableType.Date when TryDate(value, out var date) =>
            date.ToString(variable.Format.Length > 0 ? variable.Format : DefaultDateFormat, CultureInfo.InvariantCulture),
        _ => value,
    };

    private static bool TryNumber(string value, out decimal number) =>
        decimal.TryParse(value.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number);

    private static bool TryDate(string value, out DateOnly date) =>
        DateOnly.TryParseExact(value.Trim(), DefaultDateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"\{\{(.*?)\}\}", RegexOptions.Singleline)]
    private static partial Regex ReferencePattern();
}
