using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Berth.Server.Api.Http;

/// <summary>
/// prometheus-net's HTTP request metrics with labels a client cannot multiply. The <c>method</c> label is the
/// request's method as sent, so every invented method (<c>FOO1</c>, <c>FOO2</c>…) would become a new series that
/// lives as long as the process: methods other than the standard ones are counted as <c>OTHER</c>. The
/// <c>endpoint</c> label is the matched route's pattern (empty when no route matched), so paths cannot multiply it.
/// </summary>
internal static class BoundedHttpMetrics
{
    public const string OtherMethod = "OTHER";

    private static readonly object OriginalMethodKey = new();

    private static readonly FrozenSet<string> Standard = FrozenSet.Create(StringComparer.Ordinal,
        HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete,
        HttpMethods.Options, HttpMethods.Trace, HttpMethods.Connect);

    public static IApplicationBuilder UseBoundedHttpMetrics(this IApplicationBuilder app, IMetricFactory factory)
    {
        // The metrics middleware reads Request.Method when a request starts and when it ends; it sees OTHER, while
        // everything inside it (routing already chose the endpoint by the real method) sees the real method.
        app.Use(static async (context, next) =>
        {
            var method = context.Request.Method;
            if (Standard.Contains(method))
            {
                await next(context);
                return;
            }

            context.Items[OriginalMethodKey] = method;
            context.Request.Method = OtherMethod;
            try
            {
                await next(context);
            }
            finally
            {
                context.Request.Method = method;
            }
        });
        app.UseHttpMetrics(options => options.SetMetricFactory(factory));
        app.Use(static async (context, next) =>
        {
            if (!context.Items.TryGetValue(OriginalMethodKey, out var original) || original is not string method)
            {
                await next(context);
                return;
            }

            context.Request.Method = method;
            try
            {
                await next(context);
            }
            finally
            {
                context.Request.Method = OtherMethod;
            }
        });
        return app;
    }
}
