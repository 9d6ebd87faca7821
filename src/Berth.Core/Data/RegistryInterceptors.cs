using Berth.Core.Audit;
using Berth.Core.Events;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Berth.Core.Data;

/// <summary>The interceptors every provider adds: the audit chain and the event outbox.</summary>
public static class RegistryInterceptors
{
    public static IInterceptor[] Create() => [new AuditChainInterceptor(), new OutboxInterceptor()];
}
