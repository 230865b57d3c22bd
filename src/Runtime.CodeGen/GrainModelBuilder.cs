using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace Platform.Runtime.CodeGen;

/// <summary>
/// Reads grain and observer interfaces and grain classes from symbols into plain, equatable models: the only
/// part of the generator that touches the compilation, run per type declaration as it changes.
/// </summary>
internal static class GrainModelBuilder
{
    private const string Ns = "Platform.Runtime";

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayFormat.FullyQualifiedFormat.MiscellaneousOptions | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>The model of <paramref name="type"/>, or null when it is neither a grain interface nor a grain class.</summary>
    public static TypeModel? Build(INamedTypeSymbol type)
    {
        if (IsGrainOrObserverInterface(type)) return BuildInterface(type);
        if (IsGrainClass(type)) return BuildClass(type);
        return null;
    }

    private static bool IsMarker(INamedTypeSymbol t)
        => t.ContainingNamespace?.ToDisplayString() == Ns && t.Name is "IGrain" or "IGrainWithStringKey" or "IGrainObserver";

    private static bool IsRuntimeType(INamedTypeSymbol t, string name) => t.ContainingNamespace?.ToDisplayString() == Ns && t.Name == name;

    private static bool IsGrainOrObserverInterface(INamedTypeSymbol t)
        => t.TypeKind == TypeKind.Interface && !IsMarker(t) && t.AllInterfaces.Any(i => IsRuntimeType(i, "IGrain") || IsRuntimeType(i, "IGrainObserver"));

    private static bool IsGrainClass(INamedTypeSymbol t)
    {
        if (t.TypeKind != TypeKind.Class || t.IsAbstract || t.IsGenericType) return false;
        for (var b = t.BaseType; b is not null; b = b.BaseType)
            if (IsRuntimeType(b, "Grain")) return true;
        return false;
    }

    private static bool HasAttribute(ISymbol s, string name, bool inherit = false)
    {
        for (var cur = s; cur is not null; cur = inherit && cur is INamedTypeSymbol n ? n.BaseType : null)
            if (cur.GetAttributes().Any(a => a.AttributeClass is { } c && IsRuntimeType(c, name))) return true;
        return false;
    }

    internal static string Safe(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s) sb.Append(char.IsLetterOrDigit(ch) ? ch : '_');
        return sb.ToString();
    }

    private static InterfaceModel BuildInterface(INamedTypeSymbol itf)
    {
        var fullName = itf.ToDisplayString(TypeFormat);
        var proxyName = "Proxy_" + Safe(itf.ToDisplayString());
        if (itf.IsGenericType)
        {
            var error = new UnsupportedInfo($"Grain interface {itf.Name} is generic; generic grain interfaces are not supported.", LocationInfo.From(itf.Locations.FirstOrDefault()));
            return new InterfaceModel(fullName, itf.Name, proxyName, new EquatableArray<MethodModel>(ImmutableArray<MethodModel>.Empty), error);
        }
        var methods = ImmutableArray.CreateBuilder<MethodModel>();
        foreach (var decl in new[] { itf }.Concat(itf.AllInterfaces.Where(i => !IsMarker(i))))
        {
            foreach (var m in decl.GetMembers().OfType<IMethodSymbol>())
            {
                if (m.MethodKind != MethodKind.Ordinary || m.IsStatic || !m.IsAbstract) continue;
                methods.Add(BuildMethod(m, decl));
            }
        }
        return new InterfaceModel(fullName, itf.Name, proxyName, new EquatableArray<MethodModel>(methods.ToImmutable()), null);
    }

    private static MethodModel BuildMethod(IMethodSymbol m, INamedTypeSymbol decl)
    {
        var parameters = new EquatableArray<ParameterModel>(m.Parameters.Select(p => new ParameterModel(p.Type.ToDisplayString(TypeFormat), p.Type.ToDisplayString())).ToImmutableArray());
        var key = m.GetDocumentationCommentId() ?? $"{decl.ToDisplayString()}.{m.Name}({string.Join(",", parameters.Select(p => p.DisplayType))})";
        var returnType = m.ReturnsVoid ? "void" : m.ReturnType.ToDisplayString(TypeFormat);

        MethodModel Unsupported(string why) => new(key, decl.Name, decl.ToDisplayString(), decl.ToDisplayString(TypeFormat), m.Name, parameters, returnType, "", "", "",
            new UnsupportedInfo($"{decl.Name}.{m.Name}: {why}", LocationInfo.From(m.Locations.FirstOrDefault())));

        if (m.IsGenericMethod) return Unsupported("generic grain methods are not supported");
        foreach (var p in m.Parameters)
            if (p.RefKind != RefKind.None) return Unsupported($"parameter '{p.Name}' is ref/out/in; grain calls pass arguments by value");

        string kind, resultType;
        var ret = m.ReturnType as INamedTypeSymbol;
        var retNs = ret?.ContainingNamespace?.ToDisplayString();
        if (m.ReturnsVoid)
        {
            kind = "void";
            resultType = "global::Platform.Runtime.Invocation.VoidResult";
        }
        else if (ret is not null && retNs == "System.Threading.Tasks" && ret.Name is "Task" or "ValueTask")
        {
            if (ret.TypeArguments.Length == 0)
            {
                kind = ret.Name == "Task" ? "task" : "valuetask";
                resultType = "global::Platform.Runtime.Invocation.VoidResult";
            }
            else
            {
                kind = ret.Name == "Task" ? "task1" : "valuetask1";
                resultType = ret.TypeArguments[0].ToDisplayString(TypeFormat);
            }
        }
        else
        {
            return Unsupported($"returns {m.ReturnType.ToDisplayString()}; grain methods return Task, Task<T>, ValueTask, ValueTask<T> (or void for one-way)");
        }
        var flags = new List<string>();
        if (HasAttribute(m, "AlwaysInterleaveAttribute")) flags.Add("AlwaysInterleave");
        if (HasAttribute(m, "ReadOnlyAttribute")) flags.Add("ReadOnly");
        if (HasAttribute(m, "OneWayAttribute") || kind == "void") flags.Add("OneWay");
        var flagText = flags.Count == 0
            ? "global::Platform.Runtime.Invocation.GrainMethodFlags.None"
            : string.Join(" | ", flags.Select(f => "global::Platform.Runtime.Invocation.GrainMethodFlags." + f));
        return new MethodModel(key, decl.Name, decl.ToDisplayString(), decl.ToDisplayString(TypeFormat), m.Name, parameters, returnType, kind, resultType, flagText, null);
    }

    private static GrainClassModel BuildClass(INamedTypeSymbol cls)
    {
        var clsName = cls.ToDisplayString(TypeFormat);
        var typeName = cls.Name.EndsWith("Grain") && cls.Name.Length > 5 ? cls.Name.Substring(0, cls.Name.Length - 5) : cls.Name;
        typeName = typeName.ToLowerInvariant();
        var typeAttr = cls.GetAttributes().FirstOrDefault(a => a.AttributeClass is { } c && IsRuntimeType(c, "GrainTypeAttribute"));
        if (typeAttr is { ConstructorArguments.Length: 1 } && typeAttr.ConstructorArguments[0].Value is string named) typeName = named;

        var reentrant = HasAttribute(cls, "ReentrantAttribute", inherit: true);
        var workers = "0";
        for (INamedTypeSymbol? cur = cls; cur is not null; cur = cur.BaseType)
        {
            var sw = cur.GetAttributes().FirstOrDefault(a => a.AttributeClass is { } c && IsRuntimeType(c, "StatelessWorkerAttribute"));
            if (sw is null) continue;
            var n = sw.ConstructorArguments.Length == 1 && sw.ConstructorArguments[0].Value is int v ? v : 0;
            workers = n > 0 ? n.ToString() : "global::System.Environment.ProcessorCount";
            break;
        }

        var none = new EquatableArray<string>(ImmutableArray<string>.Empty);
        var ctor = cls.InstanceConstructors.Where(c => c.DeclaredAccessibility == Accessibility.Public).OrderByDescending(c => c.Parameters.Length).FirstOrDefault();
        if (ctor is null)
        {
            var error = new UnsupportedInfo($"Grain class {cls.Name} needs a public constructor.", LocationInfo.From(cls.Locations.FirstOrDefault()));
            return new GrainClassModel(clsName, cls.Name, typeName, reentrant, workers, none, none, error);
        }
        var args = ImmutableArray.CreateBuilder<string>();
        foreach (var p in ctor.Parameters)
        {
            var ps = p.GetAttributes().FirstOrDefault(a => a.AttributeClass is { } c && IsRuntimeType(c, "PersistentStateAttribute"));
            if (ps is not null && p.Type is INamedTypeSymbol { TypeArguments.Length: 1 } st && IsRuntimeType(st, "IPersistentState"))
            {
                var stateName = ps.ConstructorArguments[0].Value as string ?? p.Name;
                var storage = ps.ConstructorArguments.Length > 1 && ps.ConstructorArguments[1].Value is string s ? $"\"{s}\"" : "null";
                args.Add($"global::Platform.Runtime.Storage.PersistentStateFactory.Create<{st.TypeArguments[0].ToDisplayString(TypeFormat)}>(sp, \"{stateName}\", {storage})");
            }
            else
            {
                args.Add($"global::Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<{p.Type.ToDisplayString(TypeFormat)}>(sp)");
            }
        }
        var itfs = cls.AllInterfaces.Where(i => IsGrainOrObserverInterface(i) && !i.IsGenericType).Select(i => $"typeof({i.ToDisplayString(TypeFormat)})").ToImmutableArray();
        return new GrainClassModel(clsName, cls.Name, typeName, reentrant, workers, new EquatableArray<string>(args.ToImmutable()), new EquatableArray<string>(itfs), null);
    }
}
