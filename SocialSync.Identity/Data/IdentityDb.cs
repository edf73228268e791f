using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace SocialSync.Identity.Data;

/// <summary>
/// The identity provider's own database (identitydb): ASP.NET Core Identity's users, OpenIddict's applications,
/// authorizations and tokens, the server's keys, the script clients' owners and the Data Protection key ring.
/// The schema is the EF Core migrations in Data/Migrations, applied at start-up.
/// </summary>
public sealed class IdentityDb(DbContextOptions<IdentityDb> options)
    : IdentityUserContext<IdentityUser<Guid>, Guid>(options), IDataProtectionKeyContext
{
    public DbSet<ServerKey> ServerKeys => Set<ServerKey>();

    public DbSet<ScriptClient> ScriptClients => Set<ScriptClient>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict();

        builder.Entity<ServerKey>(key =>
        {
            key.HasKey(k => k.Id);
            key.Property(k => k.Use).HasMaxLength(16);
            key.HasIndex(k => new { k.Use, k.CreatedAt });
        });

        builder.Entity<ScriptClient>(client =>
        {
            client.HasKey(c => c.ClientId);
            client.Property(c => c.ClientId).HasMaxLength(100);
            client.Property(c => c.Name).HasMaxLength(100);
            client.HasIndex(c => c.OwnerId);
            // A deleted account takes its script clients with it (and so every token they could still obtain).
            client.HasOne<IdentityUser<Guid>>().WithMany().HasForeignKey(c => c.OwnerId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

/// <summary>
/// One of the server's own keys: an RSA private key that signs tokens (<see cref="ServerKeyUse.Signing"/>) or an AES
/// key that encrypts authorization codes and refresh tokens (<see cref="ServerKeyUse.Encryption"/>). Generated on the
/// first start, so no key is a value in the repository, and kept here so tokens survive a restart.
/// </summary>
public sealed class ServerKey
{
    public int Id { get; set; }

    public required string Use { get; set; }

    /// <summary>PKCS#8 (RSA) or raw (AES) key bytes.</summary>
    public required byte[] Material { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public static class ServerKeyUse
{
    public const string Signing = "signing";
    public const string Encryption = "encryption";
}

/// <summary>
/// A client-credentials client that a user created for their scripts: the OpenIddict application of the same client
/// id holds its hashed secret; this row says whose tokens it obtains (their user id becomes the token's <c>sub</c>).
/// </summary>
public sealed class ScriptClient
{
    public required string ClientId { get; set; }

    public Guid OwnerId { get; set; }

    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
