import { ipLocationDatabaseInfo, locateIp, type IpLocation } from "@/lib/ip-location/locate";

function credit(): string {
  const info = ipLocationDatabaseInfo();
  const built = info ? `, built ${info.builtAt.toISOString().slice(0, 10)}` : "";
  return `Country from the offline database geo-whois-asn-country${built}; data by NRO (nro.net), CC BY 4.0`;
}

function LocationText({ location }: { location: Exclude<IpLocation, { kind: "none" }> }) {
  if (location.kind !== "public") {
    return (
      <>
        <span className="sr-only">Range: </span>
        {location.label}
      </>
    );
  }
  return (
    <span title={credit()}>
      <span className="sr-only">Located in </span>
      {location.country ? `${location.country.name} (${location.country.code})` : "Country unknown"}
    </span>
  );
}

/** The address as logged, and beside it its country or the kind of range it is in. */
export function IpAddressCell({ ip }: { ip: string | null }) {
  const location = locateIp(ip);
  if (location.kind === "none") return <span className="font-mono text-xs">—</span>;
  return (
    <span className="flex flex-wrap items-baseline gap-x-2">
      <span className="font-mono text-xs break-all" data-testid="ip-address">
        {ip}
      </span>
      <span className="text-xs whitespace-nowrap text-slate-600" data-testid="ip-location">
        <LocationText location={location} />
      </span>
    </span>
  );
}
