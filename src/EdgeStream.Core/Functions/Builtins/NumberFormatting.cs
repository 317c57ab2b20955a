using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// <c>format(x, decimals [, locale])</c>'s number text. Without a locale it is Go's <c>%.{decimals}f</c>; with one,
/// the digits are grouped and punctuated as eKuiper's locale list does (its unit tests give the separators, taken
/// from the Unicode CLDR data). The table is built in, so the result never depends on the host's culture data (the
/// library runs with invariant globalization). The minus sign is always the ASCII hyphen.
/// </summary>
internal static class NumberFormatting
{
    /// <summary>More decimals than this are refused (Go would print them; a bound keeps one row's text sane).</summary>
    public const int MaxDecimals = 1000;

    private const char NoBreakSpace = '\u00A0';

    private static readonly string[] FixedFormats = [.. Enumerable.Range(0, 21).Select(d => "F" + d.ToString(CultureInfo.InvariantCulture))];

    /// <summary>The locales eKuiper supports (docs/en_US/sqls/functions/locale_support.md), with their symbols.</summary>
    private static readonly FrozenDictionary<string, LocaleNumbers> Locales = BuildLocales();

    /// <summary>The symbols of <paramref name="name"/> (e.g. <c>de_DE</c>), or null when eKuiper does not know it.</summary>
    public static LocaleNumbers? Find(string name) => Locales.TryGetValue(name, out var locale) ? locale : null;

    /// <summary>Go's <c>%.{decimals}f</c>: exact rounding of the binary value, <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>.</summary>
    public static string Fixed(double x, int decimals)
    {
        if (double.IsNaN(x))
        {
            return "NaN";
        }

        if (double.IsInfinity(x))
        {
            return x > 0 ? "+Inf" : "-Inf";
        }

        return x.ToString(decimals < FixedFormats.Length ? FixedFormats[decimals] : "F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary><paramref name="x"/> rounded to <paramref name="decimals"/> places, grouped and punctuated for a locale.</summary>
    public static string Localized(double x, int decimals, LocaleNumbers locale)
    {
        if (double.IsNaN(x))
        {
            return "NaN";
        }

        if (double.IsInfinity(x))
        {
            return x > 0 ? "∞" : "-∞";
        }

        var plain = Fixed(x, decimals);
        var negative = plain.StartsWith('-');
        var digits = negative ? plain.AsSpan(1) : plain.AsSpan();
        var point = digits.IndexOf('.');
        var integer = point < 0 ? digits : digits[..point];
        var builder = new StringBuilder(plain.Length + (integer.Length / 2) + 2);
        if (negative)
        {
            builder.Append('-');
        }

        for (var k = 0; k < integer.Length; k++)
        {
            if (k > 0 && IsGroupBoundary(integer.Length - k, locale.Indian))
            {
                builder.Append(locale.Group);
            }

            builder.Append(Digit(integer[k], locale.Zero));
        }

        if (point >= 0)
        {
            builder.Append(locale.Decimal);
            foreach (var c in digits[(point + 1)..])
            {
                builder.Append(Digit(c, locale.Zero));
            }
        }

        return builder.ToString();
    }

    /// <summary>Whether a separator goes before the digit that has <paramref name="remaining"/> digits from it to the point.</summary>
    private static bool IsGroupBoundary(int remaining, bool indian) =>
        indian ? remaining == 3 || (remaining > 3 && (remaining - 3) % 2 == 0) : remaining % 3 == 0;

    private static char Digit(char c, char zero) => (char)(zero + (c - '0'));

    private static FrozenDictionary<string, LocaleNumbers> BuildLocales()
    {
        var comma = new LocaleNumbers(',', '.', '0', false);
        var dot = new LocaleNumbers('.', ',', '0', false);
        var space = new LocaleNumbers(NoBreakSpace, ',', '0', false);
        var swiss = new LocaleNumbers('\u2019', '.', '0', false);
        var indian = new LocaleNumbers(',', '.', '0', true);
        var arabic = new LocaleNumbers('\u066C', '\u066B', '\u0660', false);
        var table = new Dictionary<string, LocaleNumbers>(StringComparer.Ordinal);
        void Add(LocaleNumbers numbers, string names)
        {
            foreach (var name in names.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                table.Add(name, numbers);
            }
        }

        Add(comma, "ar_AE ar_BH ar_EG ar_IQ ar_JO ar_KW ar_OM ar_QA ar_SA ar_SD ar_SY ar_YE en_AU en_CA en_GB en_NZ en_PH "
            + "en_US en_ZW es_DO es_GT es_HN es_MX es_NI es_PA es_PE es_PR es_SV es_US he_IL ja_JP ko_KR mn_MN ms_MY no_NO "
            + "th_TH ur_PK zh_CN zh_HK zh_TW");
        Add(dot, "ar_DZ ar_LB ar_LY ar_MA ar_TN ca_ES da_DK de_BE de_DE de_LU el_GR es_AR es_BO es_CL es_CO es_EC es_ES "
            + "es_PY es_UY es_VE eu_ES fo_FO fr_LU gl_ES hr_HR id_ID is_IS it_IT mk_MK nl_BE nl_NL pt_BR ro_RO sl_SI sr_RS "
            + "tr_TR vi_VN");
        Add(space, "be_BY bg_BG cs_CZ de_AT en_ZA es_CR et_EE fi_FI fr_BE fr_CA fr_CH fr_FR hu_HU lt_LT lv_LV nb_NO pl_PL "
            + "pt_PT ru_RU ru_UA sk_SK sq_AL sv_FI sv_SE uk_UA");
        Add(swiss, "de_CH it_CH rm_CH");
        Add(indian, "en_IN gu_IN hi_IN ta_IN te_IN");
        Add(arabic, "ar_IN");
        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>A locale's number symbols: the group separator, the decimal separator, its zero digit, Indian grouping.</summary>
/// <param name="Group">Between groups of the integer part.</param>
/// <param name="Decimal">Before the fraction.</param>
/// <param name="Zero">The locale's digit zero (the nine others follow it).</param>
/// <param name="Indian">Groups of two above the first three digits (12,34,567).</param>
internal sealed record LocaleNumbers(char Group, char Decimal, char Zero, bool Indian);
