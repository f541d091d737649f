/**
 * Realistic payment intents in the full nested shape of Flex's cancel response (intent → customer
 * with shipping, invoice → subscription → item → price → product), built from the seeded generator.
 * Values are consistent with the status: an intent awaiting capture holds its whole amount as
 * `amount_capturable`, a succeeded one has `amount_received` and a paid invoice, and so on.
 *
 * @internal
 */
import type { CustomerEncoded } from "@flex/domain/Customer"
import type { InvoiceEncoded } from "@flex/domain/Invoice"
import type { CaptureMethod, PaymentIntentEncoded } from "@flex/domain/PaymentIntent"
import type { Status } from "@flex/domain/PaymentIntentStatus"
import type { PriceEncoded } from "@flex/domain/Price"
import type { ProductEncoded } from "@flex/domain/Product"
import type { SubscriptionEncoded } from "@flex/domain/Subscription"
import { digits, prefixed, token } from "./ids.js"
import type { Prng } from "./prng.js"

/** The wire form of an intent, exactly what the API serves. */
export type IntentWire = PaymentIntentEncoded

const day = 86_400_000

/** Seeded intents are spread over these two months; later ones are created after them, a clock tick each. */
export const seededFrom = Date.UTC(2024, 10, 1)
export const seededUntil = Date.UTC(2024, 11, 31)

export const toWireTime = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "Z")

const addMonths = (ms: number, months: number): number => {
  const d = new Date(ms)
  return Date.UTC(
    d.getUTCFullYear(),
    d.getUTCMonth() + months,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds()
  )
}

interface ProductTemplate {
  readonly name: string
  readonly description: string
  readonly eligibility: string
  readonly visitType: string | null
  readonly rationale: string | null
  readonly slug: string
  readonly catalog: string
  readonly unitAmount: number
  readonly interval: "monthly" | "yearly"
  readonly trialDays: number
}

const productTemplates: ReadonlyArray<ProductTemplate> = [
  {
    name: "CBT-I Sleep Program",
    description: "Eight weeks of cognitive behavioural therapy for insomnia",
    eligibility: "letter_of_medical_necessity",
    visitType: "cbtSleep",
    rationale: "Treats a diagnosed sleep disorder",
    slug: "cbt-i",
    catalog: "sleep",
    unitAmount: 4999,
    interval: "monthly",
    trialDays: 7
  },
  {
    name: "Medical Weight Program",
    description: "Clinician-led weight management with monthly check-ins",
    eligibility: "letter_of_medical_necessity",
    visitType: "weightLoss",
    rationale: "Treats obesity as diagnosed by a clinician",
    slug: "weight-program",
    catalog: "metabolic",
    unitAmount: 12900,
    interval: "monthly",
    trialDays: 0
  },
  {
    name: "Physical Therapy at Home",
    description: "Guided physical therapy sessions with a licensed therapist",
    eligibility: "letter_of_medical_necessity",
    visitType: "physicalTherapy",
    rationale: "Rehabilitation of a diagnosed musculoskeletal condition",
    slug: "pt-at-home",
    catalog: "rehab",
    unitAmount: 8900,
    interval: "monthly",
    trialDays: 14
  },
  {
    name: "Vision Care Membership",
    description: "Annual eye exam and a yearly lens allowance",
    eligibility: "vision",
    visitType: null,
    rationale: null,
    slug: "vision-care",
    catalog: "vision",
    unitAmount: 19900,
    interval: "yearly",
    trialDays: 0
  },
  {
    name: "Nutrition Coaching",
    description: "Registered dietitian sessions and a personalised meal plan",
    eligibility: "letter_of_medical_necessity",
    visitType: "nutrition",
    rationale: "Dietary treatment of a diagnosed condition",
    slug: "nutrition-coaching",
    catalog: "metabolic",
    unitAmount: 6900,
    interval: "monthly",
    trialDays: 7
  },
  {
    name: "Hearing Aid Care Plan",
    description: "Cleaning, batteries and adjustments for two hearing aids",
    eligibility: "auto_substantiation",
    visitType: null,
    rationale: null,
    slug: "hearing-care",
    catalog: "hearing",
    unitAmount: 2999,
    interval: "monthly",
    trialDays: 0
  }
]

const firstNames = [
  "Maria",
  "James",
  "Aisha",
  "Wei",
  "Carlos",
  "Priya",
  "Liam",
  "Sofia",
  "Noah",
  "Fatima",
  "Ethan",
  "Hana",
  "Lucas",
  "Amara",
  "Mateo",
  "Yuki",
  "Olivia",
  "Kwame",
  "Elena",
  "Ravi"
]
const lastNames = [
  "Okafor",
  "Smith",
  "Chen",
  "Garcia",
  "Patel",
  "Johnson",
  "Nguyen",
  "Kim",
  "Martinez",
  "Rossi",
  "Haddad",
  "Cohen",
  "Silva",
  "Tanaka",
  "Mensah",
  "Novak",
  "Brown",
  "Ivanova",
  "Singh",
  "Murphy"
]
const employers = [
  "Northwind Health",
  "Contoso Pharmacy",
  "Fabrikam Logistics",
  "Tailspin Toys",
  "Wide World Importers",
  "Adventure Works",
  "Litware",
  "Proseware"
]
const streets = ["Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Blvd", "Elm St", "Lake Rd", "Hillside Ave"]
const cities: ReadonlyArray<readonly [city: string, state: string, postalCode: string, areaCode: string]> = [
  ["San Francisco", "CA", "94107", "415"],
  ["Austin", "TX", "78701", "512"],
  ["Brooklyn", "NY", "11201", "718"],
  ["Seattle", "WA", "98101", "206"],
  ["Denver", "CO", "80202", "303"],
  ["Chicago", "IL", "60601", "312"],
  ["Boston", "MA", "02108", "617"],
  ["Miami", "FL", "33131", "305"],
  ["Portland", "OR", "97205", "503"],
  ["Phoenix", "AZ", "85004", "602"]
]

// A GS1 check digit, so the UPC and GTIN codes are valid ones.
const withCheckDigit = (body: string): string => {
  let sum = 0
  for (let i = 0; i < body.length; i++) {
    const fromRight = body.length - i
    sum += Number(body[i]) * (fromRight % 2 === 1 ? 3 : 1)
  }
  return `${body}${(10 - (sum % 10)) % 10}`
}

/** A price of the catalog with its product expanded, as the seed response shows it. */
interface CatalogEntry {
  readonly price: PriceEncoded
  readonly template: ProductTemplate
}

const makeCatalog = (rng: Prng): ReadonlyArray<CatalogEntry> =>
  productTemplates.map((template, i) => {
    const productCreated = Date.UTC(2024, 0, 9 + i * 3, 8, 30)
    const upc = withCheckDigit(`0${digits(10, rng)}`)
    const product: ProductEncoded = {
      product_id: prefixed("fprod_", productCreated, rng),
      name: template.name,
      description: template.description,
      active: true,
      hsa_fsa_eligibility: template.eligibility,
      visit_type: template.visitType,
      upc_code: upc,
      gtin: `00${upc}`,
      reference_gtin: `00${upc}`,
      eligibility_rationale: template.rationale,
      url: `https://shop.example.com/products/${template.slug}`,
      document_description: template.name,
      receipt_description: template.name,
      client_reference_id: `sku-${template.slug}`,
      metadata: { catalog: template.catalog },
      created_at: toWireTime(productCreated),
      test_mode: true
    }
    const priceCreated = productCreated + 105_000
    const price: PriceEncoded = {
      price_id: prefixed("fprice_", priceCreated, rng),
      description: template.interval === "monthly" ? "Monthly membership" : "Annual membership",
      trial_period_days: template.trialDays,
      unit_amount: template.unitAmount,
      recurring: { interval: template.interval, interval_count: 1, trial_period_days: template.trialDays },
      active: true,
      product,
      created_at: toWireTime(priceCreated),
      type: "recurring",
      metadata: {},
      hsa_fsa_eligibility: template.eligibility,
      test_mode: true
    }
    return { price, template }
  })

const makeCustomer = (rng: Prng): CustomerEncoded => {
  const created = Date.UTC(2024, 2, 1) + 1000 * rng.int(200 * 86_400)
  const first = rng.pick(firstNames)
  const last = rng.pick(lastNames)
  const [city, state, postalCode, areaCode] = rng.pick(cities)
  return {
    customer_id: prefixed("fcus_", created, rng),
    first_name: first,
    last_name: last,
    email: `${first}.${last}${rng.chance(0.5) ? rng.between(1, 99) : ""}@example.com`.toLowerCase(),
    phone: `+1${areaCode}555${digits(4, rng)}`,
    employer: rng.pick(employers),
    shipping: {
      shipping_address_id: prefixed("saddr_", created, rng),
      line1: `${rng.between(10, 9999)} ${rng.pick(streets)}`,
      line2: rng.chance(0.4) ? `Apt ${rng.between(1, 40)}${rng.pick(["", "A", "B", "C"])}` : null,
      city,
      state,
      postal_code: postalCode,
      country: "US"
    },
    metadata: { crm_id: `A-${digits(5, rng)}` },
    created_at: toWireTime(created),
    test_mode: true
  }
}

/** What an intent is built from; anything not given is drawn from the generator. */
export interface IntentInput {
  readonly id?: string | undefined
  readonly createdMs: number
  readonly status: Status
  readonly amount?: number | undefined
  readonly captureMethod?: CaptureMethod | undefined
  readonly customer?: CustomerEncoded | undefined
}

/** The statuses a seeded fixture of `n` intents cycles through: mostly holds waiting for capture. */
const seedPattern: ReadonlyArray<Status> = [
  ...Array<Status>(8).fill("requires_capture"),
  ...Array<Status>(3).fill("requires_payment_method"),
  "requires_confirmation",
  "requires_action",
  "processing",
  ...Array<Status>(3).fill("succeeded"),
  ...Array<Status>(3).fill("canceled")
]

export class Generator {
  private readonly catalog: ReadonlyArray<CatalogEntry>
  private readonly customers: Array<CustomerEncoded> = []
  private readonly customersById = new Map<string, CustomerEncoded>()
  private readonly destination: string
  private clock = seededUntil

  constructor(private readonly rng: Prng) {
    this.catalog = makeCatalog(rng)
    this.destination = `acct_1${token(15, rng)}`
    for (let i = 0; i < 8; i++) this.addCustomer()
  }

  private addCustomer(): CustomerEncoded {
    const customer = makeCustomer(this.rng)
    this.customers.push(customer)
    this.customersById.set(customer.customer_id.toUpperCase(), customer)
    return customer
  }

  /** A customer of the pool by ID, in any letter case. */
  customer(id: string): CustomerEncoded | undefined {
    return this.customersById.get(id.toUpperCase())
  }

  /** The next creation time of the logical clock: after every seeded intent, a few seconds apart. */
  tick(): number {
    this.clock += 1000 * this.rng.between(1, 90)
    return this.clock
  }

  /** `n` intents with a mix of statuses (at least one of each from 20 on), oldest first. */
  seed(n: number): Array<IntentWire> {
    // About one customer per four intents, so the customer filter of the list has something to find.
    while (this.customers.length < Math.ceil(n / 4)) this.addCustomer()
    const pattern = [...seedPattern]
    for (let i = pattern.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1)
      ;[pattern[i], pattern[j]] = [pattern[j]!, pattern[i]!]
    }
    const times = Array.from({ length: n }, () => seededFrom + 1000 * this.rng.int((seededUntil - seededFrom) / 1000))
    times.sort((a, b) => a - b)
    return times.map((createdMs, i) => this.intent({ createdMs, status: pattern[i % pattern.length]! }))
  }

  intent(input: IntentInput): IntentWire {
    const rng = this.rng
    const { status, createdMs } = input
    const entry = rng.pick(this.catalog)
    const customer = input.customer ?? rng.pick(this.customers)
    const quantity = rng.chance(0.8) ? 1 : rng.between(2, 3)
    const amount = input.amount ?? entry.price.unit_amount * quantity
    const id = input.id ?? prefixed("fpi_", createdMs, rng)
    const captureMethod: CaptureMethod =
      input.captureMethod ?? (status === "requires_capture" || rng.chance(0.3) ? "manual" : "automatic")
    const hasPaymentMethod = status !== "requires_payment_method"
    const charged =
      status === "processing" ||
      status === "requires_capture" ||
      status === "succeeded" ||
      (status === "canceled" && rng.chance(0.5))
    const fee = Math.round(amount * 0.03)
    const orderId = `WC-${digits(5, rng)}`
    const clientSecret = `${id}_secret_${token(24, rng)}`
    const chargeId = charged ? prefixed("ch_", createdMs + 2000, rng) : null

    const periodStart = createdMs - (createdMs % 3_600_000)
    const periodEnd = addMonths(periodStart, entry.template.interval === "monthly" ? 1 : 12)
    const subscriptionCreated = addMonths(periodStart, -rng.int(entry.template.interval === "monthly" ? 7 : 2))
    const trialDays = entry.template.trialDays
    const invoiceId = prefixed("fin_", createdMs - 5000, rng)
    const subscription: SubscriptionEncoded = {
      subscription_id: prefixed("fsub_", subscriptionCreated, rng),
      created_at: toWireTime(subscriptionCreated),
      items: [
        {
          subscription_item_id: prefixed("si_", subscriptionCreated, rng),
          price: entry.price,
          quantity,
          created_at: toWireTime(subscriptionCreated),
          updated_at: toWireTime(periodStart),
          test_mode: true
        }
      ],
      latest_invoice: invoiceId,
      customer,
      status: "active",
      cancel_at_period_end: false,
      current_period_end: toWireTime(periodEnd),
      current_period_start: toWireTime(periodStart),
      metadata: { plan: `${entry.template.slug}-${entry.template.interval}` },
      test_mode: true,
      client_secret: {
        setup_secret: `${prefixed("fsi_", subscriptionCreated, rng)}_secret_${token(16, rng)}`,
        payment_secret: clientSecret
      },
      proration_behavior: "create_prorations",
      trial_start: trialDays > 0 ? toWireTime(subscriptionCreated) : null,
      trial_end: trialDays > 0 ? toWireTime(subscriptionCreated + trialDays * day) : null,
      cancel_at: null
    }
    const invoice: InvoiceEncoded = {
      invoice_id: invoiceId,
      total: amount,
      amount_due: amount,
      amount_paid: status === "succeeded" ? amount : 0,
      payment_intent: id,
      charge: chargeId,
      customer,
      period_end: toWireTime(periodEnd),
      period_start: toWireTime(periodStart),
      subscription,
      status: status === "succeeded" ? "paid" : "open",
      collection_method: "charge_automatically",
      test_mode: true,
      metadata: {}
    }
    return {
      payment_intent_id: id,
      amount,
      amount_capturable: status === "requires_capture" ? amount : 0,
      amount_received: status === "succeeded" ? amount : 0,
      application_fee_amount: fee,
      customer,
      transfer_data: { amount: amount - fee, destination: this.destination },
      status,
      latest_charge: chargeId,
      created_at: toWireTime(createdMs),
      invoice,
      capture_method: captureMethod,
      client_secret: clientSecret,
      metadata: { order_id: orderId },
      payment_method: hasPaymentMethod ? prefixed("pm_", createdMs - 60_000, rng) : null,
      test_mode: true,
      transfer_group: `group_${orderId}`
    }
  }
}
