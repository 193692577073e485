import { ipLocationDatabaseInfo, locateIp } from "@/lib/ip-location/locate";

/** The credit the country data asks for, once under the table rather than on every address. */
export function IpLocationCredit() {
  const info = ipLocationDatabaseInfo();
  const built = info ? `, built ${info.builtAt.toISOString().slice(0, 10)}` : "";
  return (
    <p className="text-xs text-slate-600" data-testid="ip-location-credit">
      Countries from the offline database geo-whois-asn-country{built}; data by NRO (nro.net), CC BY 4.0.
    </p>
  );
}

/** The address as logged, and beside it its country or the kind of range it is in. */
export function IpAddressCell({ ip }: { ip: string | null }) {
  const location = locateIp(ip);
  if (location.kind === "none") return <span className="font-mono text-xs">—</span>;
  const [prefix, text] =
    location.kind !== "public"
      ? ["Range: ", location.label]
      : ["Located in ", location.country ? `${location.country.name} (${location.country.code})` : "Country unknown"];
  return (
    <span className="flex flex-wrap items-baseline gap-x-2">
      <span className="font-mono text-xs break-all" data-testid="ip-address">
        {ip}
      </span>
      <span className="text-xs whitespace-nowrap text-slate-600" data-testid="ip-location">
        <span className="sr-only">{prefix}</span>
        {text}
      </span>
    </span>
  );
}
