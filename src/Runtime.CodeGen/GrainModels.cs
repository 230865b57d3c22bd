using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Platform.Runtime.CodeGen;

/// <summary>Where a diagnostic points, without holding a syntax tree (which would defeat caching).</summary>
internal sealed record LocationInfo(string Path, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location? location)
        => location is null || location.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    public Location ToLocation() => Location.Create(Path, Span, LineSpan);
}

/// <summary>A PLAT001 error to report: its message and where.</summary>
internal sealed record UnsupportedInfo(string Message, LocationInfo? Location);

/// <summary>One parameter of a grain method: its type as written in generated code and as shown in signatures.</summary>
internal sealed record ParameterModel(string Type, string DisplayType);

/// <summary>
/// One grain or observer method as its interface declares it. <see cref="Key"/> identifies the method across
/// the interfaces that inherit it, so that its invokable is generated once.
/// </summary>
internal sealed record MethodModel(
    string Key,
    string DeclaringName,
    string DeclaringDisplay,
    string DeclaringType,
    string Name,
    EquatableArray<ParameterModel> Parameters,
    string ReturnType,
    string Kind,
    string ResultType,
    string Flags,
    UnsupportedInfo? Unsupported);

/// <summary>A type the generator acts on: a grain or observer interface, or a grain class.</summary>
internal abstract record TypeModel(string FullName);

/// <summary>A grain or observer interface and every method it has (its own first, then inherited ones).</summary>
internal sealed record InterfaceModel(
    string FullName,
    string TypeName,
    string ProxyName,
    EquatableArray<MethodModel> Methods,
    UnsupportedInfo? Unsupported) : TypeModel(FullName);

/// <summary>A grain class: what its registration needs, or why it cannot be registered.</summary>
internal sealed record GrainClassModel(
    string FullName,
    string TypeName,
    string GrainType,
    bool Reentrant,
    string Workers,
    EquatableArray<string> ConstructorArguments,
    EquatableArray<string> Interfaces,
    UnsupportedInfo? Unsupported) : TypeModel(FullName);
