namespace Platform.Grains;

/// <summary>Names this assembly for <c>AddGrains</c>: the domain grains (keys, nodes, deploys, builds) live here.</summary>
public static class GrainsAssembly
{
    public static System.Reflection.Assembly Assembly => typeof(GrainsAssembly).Assembly;
}
