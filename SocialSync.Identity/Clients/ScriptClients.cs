using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using SocialSync.Identity.Data;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SocialSync.Identity.Clients;

/// <summary>
/// Users' client-credentials clients for scripts. The secret is shown once, when created: OpenIddict keeps only its
/// hash. A token obtained with one carries its owner's user id as <c>sub</c>, so a script acts as that user, no more.
/// </summary>
public sealed class ScriptClients(IdentityDb db, IOpenIddictApplicationManager applications, TimeProvider time)
{
    public const int MaxPerUser = 20;
    public const int MaxNameLength = 100;
    private const string ClientIdPrefix = "script-";

    public sealed record Created(string ClientId, string ClientSecret);

    public async Task<IReadOnlyList<ScriptClient>> ListAsync(Guid ownerId, CancellationToken cancellationToken) =>
        await db.ScriptClients.AsNoTracking().Where(c => c.OwnerId == ownerId).OrderBy(c => c.CreatedAt).ToListAsync(cancellationToken);

    /// <summary>A new client for <paramref name="ownerId"/>, or null when they already have <see cref="MaxPerUser"/>.</summary>
    public async Task<Created?> CreateAsync(Guid ownerId, string name, CancellationToken cancellationToken)
    {
        if (await db.ScriptClients.CountAsync(c => c.OwnerId == ownerId, cancellationToken) >= MaxPerUser)
        {
            return null;
        }

        var created = new Created(ClientIdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
            Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32)));
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = created.ClientId,
            ClientSecret = created.ClientSecret,
            ClientType = ClientTypes.Confidential,
            DisplayName = name,
            Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials },
        }, cancellationToken);
        db.ScriptClients.Add(new ScriptClient { ClientId = created.ClientId, OwnerId = ownerId, Name = name, CreatedAt = time.GetUtcNow() });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return created;
    }

    /// <summary>Deletes one of <paramref name="ownerId"/>'s clients; false when they have none of that id.</summary>
    public async Task<bool> DeleteAsync(Guid ownerId, string clientId, CancellationToken cancellationToken)
    {
        var client = await db.ScriptClients.SingleOrDefaultAsync(c => c.ClientId == clientId && c.OwnerId == ownerId, cancellationToken);
        if (client is null)
        {
            return false;
        }
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is { } application)
        {
            await applications.DeleteAsync(application, cancellationToken);
        }
        db.ScriptClients.Remove(client);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The user whose tokens <paramref name="clientId"/> obtains, or null when it is not a script client.</summary>
    public async Task<Guid?> FindOwnerAsync(string clientId, CancellationToken cancellationToken) =>
        await db.ScriptClients.AsNoTracking().Where(c => c.ClientId == clientId).Select(c => (Guid?)c.OwnerId).SingleOrDefaultAsync(cancellationToken);
}
