using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Platform.Runtime.CodeGen;

/// <summary>
/// Generates, at build time, a proxy and one invokable per method for every grain and observer
/// interface, a constructor call for every grain class, and a module initializer that registers
/// them all, so that calls never go through reflection. Each type declaration becomes an equatable model
/// (<see cref="GrainModelBuilder"/>) as it changes; the source is written from the models alone
/// (<see cref="GrainSourceEmitter"/>), so an edit that changes no model writes nothing again.
/// </summary>
[Generator]
public sealed class GrainCodeGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var models = context.SyntaxProvider.CreateSyntaxProvider(
                static (node, _) => node is TypeDeclarationSyntax { BaseList: not null } and (InterfaceDeclarationSyntax or ClassDeclarationSyntax),
                static (ctx, ct) => ctx.SemanticModel.GetDeclaredSymbol(ctx.Node, ct) is INamedTypeSymbol type ? GrainModelBuilder.Build(type) : null)
            .Where(static m => m is not null)
            .Collect();
        context.RegisterSourceOutput(models, static (spc, found) => GrainSourceEmitter.Emit(spc, found));
    }
}
