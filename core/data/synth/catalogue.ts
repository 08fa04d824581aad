/**
 * The synthetic store's product types as data: what each type is called, who makes it, which
 * attributes it carries and how it relates to other types. The relations are what GRADING-RULES.md
 * needs to decide product relevance (same / close substitute / accessory, complement, part / same
 * category / unrelated); the attribute lists are what queries may ask about and titles may state.
 * Everything a grade depends on is spelled out here, so a label can always be traced to this table.
 */

export type RelationKind = 'accessory' | 'complement' | 'part';

/** How a type's size or capacity is written: shoe sizes ("size 9"), apparel letters ("size M"), or a number with a unit. */
export type SizeDim = { kind: 'shoe'; values: string[] } | { kind: 'apparel'; values: string[] } | { kind: 'measure'; unit: string; values: string[] };

export interface ProductTypeDef {
  id: string;
  category: string;
  /** display forms: singular and plural */
  one: string;
  many: string;
  /** other names a shopper or a listing may use (every form that should parse as this type) */
  synonyms: string[];
  brands: string[];
  substitutes?: string[];
  /** types that serve this one: accessory (case for a phone), complement (socks for shoes), part (battery for a drill) */
  related?: { type: string; kind: RelationKind }[];
  /** the type whose models this accessory is made to fit ("case for iPhone 14") */
  compatWith?: string;
  audience?: boolean;
  size?: SizeDim;
  colours?: string[];
  materials?: string[];
  styles?: string[];
  packs?: number[];
  /** features a shopper may exclude ("without bluetooth", "sugar free") */
  features?: string[];
}

export interface CategoryDef {
  id: string;
  name: string;
}

export interface ModelDef {
  id: string;
  /** the display name, also what queries and titles write */
  name: string;
  brand: string;
  type: string;
}

export const CATEGORIES: CategoryDef[] = [
  { id: 'footwear', name: 'Footwear' },
  { id: 'apparel', name: 'Apparel' },
  { id: 'kitchen', name: 'Kitchen Appliances' },
  { id: 'phones', name: 'Phones & Accessories' },
  { id: 'home', name: 'Home Improvement' },
  { id: 'beauty', name: 'Beauty & Personal Care' },
  { id: 'grocery', name: 'Grocery' },
  { id: 'outdoors', name: 'Outdoors' },
];

const SHOE_SIZES = ['6', '6.5', '7', '7.5', '8', '8.5', '9', '9.5', '10', '10.5', '11', '12'];
const APPAREL_SIZES = ['xs', 's', 'm', 'l', 'xl', 'xxl'];
const BASIC_COLOURS = ['black', 'white', 'grey', 'red', 'blue', 'navy', 'green', 'pink'];
const KITCHEN_COLOURS = ['black', 'white', 'silver', 'red'];

export const MODELS: ModelDef[] = [
  { id: 'iphone_14', name: 'iPhone 14', brand: 'Apple', type: 'smartphone' },
  { id: 'iphone_15', name: 'iPhone 15', brand: 'Apple', type: 'smartphone' },
  { id: 'galaxy_s23', name: 'Galaxy S23', brand: 'Samsung', type: 'smartphone' },
  { id: 'galaxy_s24', name: 'Galaxy S24', brand: 'Samsung', type: 'smartphone' },
  { id: 'pixel_8', name: 'Pixel 8', brand: 'Google', type: 'smartphone' },
  { id: 'pixel_9', name: 'Pixel 9', brand: 'Google', type: 'smartphone' },
  { id: 'vertuo_next', name: 'Vertuo Next', brand: 'Nespresso', type: 'espresso_machine' },
  { id: 'essenza_mini', name: 'Essenza Mini', brand: 'Nespresso', type: 'espresso_machine' },
];

export const TYPES: ProductTypeDef[] = [
  // ── footwear ──
  {
    id: 'running_shoe', category: 'footwear', one: 'running shoe', many: 'running shoes',
    synonyms: ['sneakers', 'sneaker', 'running sneakers', 'runners'],
    brands: ['Nike', 'Adidas', 'Asics', 'Brooks', 'New Balance', 'Hoka'],
    substitutes: ['walking_shoe'],
    related: [{ type: 'insoles', kind: 'accessory' }, { type: 'running_socks', kind: 'complement' }],
    audience: true, size: { kind: 'shoe', values: SHOE_SIZES }, colours: BASIC_COLOURS,
    materials: ['mesh', 'knit', 'leather'], styles: ['lace up', 'slip on'],
  },
  {
    id: 'walking_shoe', category: 'footwear', one: 'walking shoe', many: 'walking shoes', synonyms: [],
    brands: ['Skechers', 'New Balance', 'Clarks', 'Nike'],
    substitutes: ['running_shoe'],
    related: [{ type: 'insoles', kind: 'accessory' }],
    audience: true, size: { kind: 'shoe', values: SHOE_SIZES }, colours: BASIC_COLOURS,
    materials: ['mesh', 'leather', 'suede'], styles: ['lace up', 'slip on'],
  },
  {
    id: 'hiking_boot', category: 'footwear', one: 'hiking boot', many: 'hiking boots', synonyms: ['boots', 'trail boots'],
    brands: ['Merrell', 'Columbia', 'Timberland', 'Salomon'],
    related: [{ type: 'insoles', kind: 'accessory' }, { type: 'hiking_socks', kind: 'complement' }],
    audience: true, size: { kind: 'shoe', values: SHOE_SIZES }, colours: ['black', 'brown', 'grey', 'green'],
    materials: ['leather', 'suede', 'mesh'], styles: ['mid', 'low cut'],
  },
  {
    id: 'sandal', category: 'footwear', one: 'sandal', many: 'sandals', synonyms: ['slides'],
    brands: ['Teva', 'Birkenstock', 'Crocs'],
    substitutes: ['flip_flop'],
    audience: true, size: { kind: 'shoe', values: SHOE_SIZES }, colours: ['black', 'brown', 'white', 'navy'],
    materials: ['leather', 'suede', 'foam'],
  },
  {
    id: 'flip_flop', category: 'footwear', one: 'flip flop', many: 'flip flops', synonyms: ['thongs'],
    brands: ['Havaianas', 'Reef', 'Crocs'],
    substitutes: ['sandal'],
    audience: true, size: { kind: 'shoe', values: SHOE_SIZES }, colours: BASIC_COLOURS, materials: ['rubber', 'foam'],
  },
  {
    id: 'insoles', category: 'footwear', one: 'insoles', many: 'insoles', synonyms: ['insole', 'shoe inserts'],
    brands: ["Dr. Scholl's", 'Superfeet', 'Spenco'],
    audience: true, size: { kind: 'shoe', values: SHOE_SIZES }, materials: ['gel', 'foam', 'cork'], packs: [1, 2],
  },
  // ── apparel ──
  {
    id: 't_shirt', category: 'apparel', one: 't-shirt', many: 't-shirts', synonyms: ['tee', 'tees', 'tshirt', 'tshirts', 't shirt'],
    brands: ['Hanes', 'Gildan', 'Champion', 'Under Armour'],
    substitutes: ['polo_shirt'],
    audience: true, size: { kind: 'apparel', values: APPAREL_SIZES }, colours: BASIC_COLOURS,
    materials: ['cotton', 'polyester'], styles: ['crew neck', 'v neck'], packs: [1, 3, 6],
  },
  {
    id: 'polo_shirt', category: 'apparel', one: 'polo shirt', many: 'polo shirts', synonyms: ['polo', 'polos'],
    brands: ['Ralph Lauren', 'Lacoste', 'Under Armour'],
    substitutes: ['t_shirt'],
    audience: true, size: { kind: 'apparel', values: APPAREL_SIZES }, colours: BASIC_COLOURS,
    materials: ['cotton', 'polyester'], styles: ['slim fit', 'classic fit'],
  },
  {
    id: 'hoodie', category: 'apparel', one: 'hoodie', many: 'hoodies', synonyms: ['hooded sweatshirt'],
    brands: ['Champion', 'Carhartt', 'Nike'],
    substitutes: ['sweatshirt'],
    audience: true, size: { kind: 'apparel', values: APPAREL_SIZES }, colours: BASIC_COLOURS,
    materials: ['cotton', 'fleece'], styles: ['zip up', 'pullover'],
  },
  {
    id: 'sweatshirt', category: 'apparel', one: 'sweatshirt', many: 'sweatshirts', synonyms: ['jumper'],
    brands: ['Champion', 'Hanes', 'Gildan'],
    substitutes: ['hoodie'],
    audience: true, size: { kind: 'apparel', values: APPAREL_SIZES }, colours: BASIC_COLOURS,
    materials: ['cotton', 'fleece'], styles: ['crew neck', 'oversized'],
  },
  {
    id: 'running_socks', category: 'apparel', one: 'running socks', many: 'running socks', synonyms: ['athletic socks'],
    brands: ['Nike', 'Balega', 'Feetures'],
    related: [{ type: 'running_shoe', kind: 'complement' }],
    audience: true, size: { kind: 'apparel', values: ['s', 'm', 'l', 'xl'] }, colours: ['black', 'white', 'grey'],
    materials: ['cotton', 'polyester', 'merino wool'], styles: ['no show', 'crew'], packs: [3, 6, 12],
  },
  {
    id: 'hiking_socks', category: 'apparel', one: 'hiking socks', many: 'hiking socks', synonyms: ['trekking socks'],
    brands: ['Darn Tough', 'Smartwool'],
    related: [{ type: 'hiking_boot', kind: 'complement' }],
    audience: true, size: { kind: 'apparel', values: ['s', 'm', 'l', 'xl'] }, colours: ['grey', 'black', 'green'],
    materials: ['merino wool', 'nylon'], packs: [1, 2, 3],
  },
  {
    id: 'leggings', category: 'apparel', one: 'leggings', many: 'leggings', synonyms: ['yoga pants', 'tights'],
    brands: ['Lululemon', 'Athleta', 'Nike'],
    audience: true, size: { kind: 'apparel', values: APPAREL_SIZES }, colours: ['black', 'navy', 'grey', 'pink'],
    materials: ['nylon', 'polyester', 'cotton'], styles: ['high waisted', 'cropped'], packs: [1, 2],
  },
  // ── kitchen ──
  {
    id: 'coffee_maker', category: 'kitchen', one: 'coffee maker', many: 'coffee makers', synonyms: ['coffee machine', 'coffee machines', 'drip coffee maker'],
    brands: ['Mr. Coffee', 'Cuisinart', 'Hamilton Beach', 'Black+Decker'],
    substitutes: ['espresso_machine'],
    related: [{ type: 'coffee_filter', kind: 'accessory' }, { type: 'coffee_beans', kind: 'complement' }],
    size: { kind: 'measure', unit: 'cup', values: ['4', '5', '10', '12', '14'] }, colours: KITCHEN_COLOURS,
    materials: ['stainless steel', 'plastic'], styles: ['programmable', 'thermal'],
  },
  {
    id: 'espresso_machine', category: 'kitchen', one: 'espresso machine', many: 'espresso machines', synonyms: ['espresso maker'],
    brands: ['Breville', "De'Longhi", 'Nespresso'],
    substitutes: ['coffee_maker'],
    related: [{ type: 'coffee_pods', kind: 'accessory' }, { type: 'milk_frother', kind: 'complement' }],
    size: { kind: 'measure', unit: 'bar', values: ['15', '19'] }, colours: KITCHEN_COLOURS,
    materials: ['stainless steel', 'plastic'], styles: ['compact', 'automatic'],
  },
  {
    id: 'milk_frother', category: 'kitchen', one: 'milk frother', many: 'milk frothers', synonyms: ['frother'],
    brands: ['Nespresso', 'Zulay', 'Secura'],
    colours: KITCHEN_COLOURS, materials: ['stainless steel', 'plastic'], styles: ['handheld', 'automatic'],
  },
  {
    id: 'coffee_filter', category: 'kitchen', one: 'coffee filter', many: 'coffee filters', synonyms: [],
    brands: ['Melitta', 'Bunn', 'Mr. Coffee'],
    colours: ['white', 'brown'], materials: ['paper', 'bamboo'], packs: [100, 200, 500],
  },
  {
    id: 'blender', category: 'kitchen', one: 'blender', many: 'blenders', synonyms: ['smoothie maker'],
    brands: ['Ninja', 'Vitamix', 'Oster', 'NutriBullet'],
    substitutes: ['food_processor'],
    size: { kind: 'measure', unit: 'oz', values: ['24', '32', '48', '64', '72'] }, colours: KITCHEN_COLOURS,
    materials: ['glass', 'plastic'], styles: ['personal', 'countertop'], features: ['bpa'],
  },
  {
    id: 'food_processor', category: 'kitchen', one: 'food processor', many: 'food processors', synonyms: ['food chopper'],
    brands: ['Cuisinart', 'KitchenAid', 'Hamilton Beach'],
    substitutes: ['blender'],
    size: { kind: 'measure', unit: 'cup', values: ['3', '7', '8', '12', '14'] }, colours: KITCHEN_COLOURS,
    materials: ['plastic', 'stainless steel'], features: ['bpa'],
  },
  {
    id: 'electric_kettle', category: 'kitchen', one: 'electric kettle', many: 'electric kettles', synonyms: ['kettle', 'kettles'],
    brands: ['Cuisinart', 'Cosori', 'Hamilton Beach', 'Fellow'],
    size: { kind: 'measure', unit: 'l', values: ['1', '1.5', '1.7'] }, colours: KITCHEN_COLOURS,
    materials: ['stainless steel', 'glass', 'plastic'], styles: ['gooseneck', 'cordless'], features: ['bpa'],
  },
  {
    id: 'air_fryer', category: 'kitchen', one: 'air fryer', many: 'air fryers', synonyms: ['airfryer'],
    brands: ['Ninja', 'Cosori', 'Instant', 'Philips'],
    substitutes: ['toaster_oven'],
    related: [{ type: 'air_fryer_liners', kind: 'accessory' }],
    size: { kind: 'measure', unit: 'qt', values: ['4', '5.8', '6', '8'] }, colours: KITCHEN_COLOURS,
    styles: ['digital', 'dual basket'],
  },
  {
    id: 'toaster_oven', category: 'kitchen', one: 'toaster oven', many: 'toaster ovens', synonyms: ['countertop oven'],
    brands: ['Breville', 'Cuisinart', 'Black+Decker'],
    substitutes: ['air_fryer'],
    colours: KITCHEN_COLOURS, materials: ['stainless steel'], styles: ['convection', 'digital'],
  },
  {
    id: 'air_fryer_liners', category: 'kitchen', one: 'air fryer liners', many: 'air fryer liners', synonyms: ['parchment liners'],
    brands: ['Katbite', 'Smartake'],
    materials: ['paper', 'silicone'], packs: [50, 100, 200],
  },
  {
    id: 'frying_pan', category: 'kitchen', one: 'frying pan', many: 'frying pans', synonyms: ['skillet', 'skillets', 'fry pan'],
    brands: ['T-fal', 'Calphalon', 'Lodge', 'All-Clad'],
    size: { kind: 'measure', unit: 'inch', values: ['8', '10', '12'] }, colours: ['black', 'grey', 'red'],
    materials: ['cast iron', 'stainless steel', 'aluminum'], features: ['stick'],
  },
  {
    id: 'kitchen_scale', category: 'kitchen', one: 'kitchen scale', many: 'kitchen scales', synonyms: ['food scale', 'scale'],
    brands: ['Etekcity', 'Ozeri', 'OXO'],
    colours: ['black', 'white', 'silver'], materials: ['glass', 'stainless steel'], styles: ['digital'], features: ['bluetooth'],
  },
  // ── phones ──
  {
    id: 'smartphone', category: 'phones', one: 'smartphone', many: 'smartphones', synonyms: ['phone', 'phones', 'cell phone', 'cell phones', 'mobile phone'],
    brands: ['Apple', 'Samsung', 'Google'],
    related: [
      { type: 'phone_case', kind: 'accessory' }, { type: 'screen_protector', kind: 'accessory' },
      { type: 'phone_charger', kind: 'accessory' }, { type: 'earbuds', kind: 'complement' },
    ],
    size: { kind: 'measure', unit: 'gb', values: ['128', '256', '512'] },
    colours: ['black', 'white', 'blue', 'green', 'pink', 'purple'], styles: ['unlocked', 'refurbished'],
  },
  {
    id: 'phone_case', category: 'phones', one: 'phone case', many: 'phone cases', synonyms: ['case', 'cases', 'phone cover', 'cover'],
    brands: ['OtterBox', 'Spigen', 'Casetify', 'ESR'], compatWith: 'smartphone',
    colours: ['black', 'clear', 'blue', 'pink', 'red'], materials: ['silicone', 'leather', 'plastic'], styles: ['slim', 'rugged', 'wallet', 'magnetic'],
  },
  {
    id: 'screen_protector', category: 'phones', one: 'screen protector', many: 'screen protectors', synonyms: [],
    brands: ['ZAGG', 'amFilm', 'Spigen'], compatWith: 'smartphone',
    materials: ['glass', 'plastic'], styles: ['privacy', 'matte'], packs: [1, 2, 3],
  },
  {
    id: 'phone_charger', category: 'phones', one: 'phone charger', many: 'phone chargers', synonyms: ['charger', 'chargers', 'charging block'],
    brands: ['Anker', 'Belkin', 'Apple', 'Samsung'], compatWith: 'smartphone',
    colours: ['black', 'white'], styles: ['wireless', 'fast charging'], packs: [1, 2],
  },
  {
    id: 'earbuds', category: 'phones', one: 'earbuds', many: 'earbuds', synonyms: ['earphones', 'in ear headphones'],
    brands: ['Apple', 'Samsung', 'Sony', 'JBL', 'Beats'],
    substitutes: ['headphones'],
    colours: ['black', 'white', 'blue'], styles: ['noise cancelling', 'sport'], features: ['bluetooth'],
  },
  {
    id: 'headphones', category: 'phones', one: 'headphones', many: 'headphones', synonyms: ['over ear headphones', 'headset'],
    brands: ['Sony', 'Bose', 'JBL', 'Beats', 'Audio-Technica'],
    substitutes: ['earbuds'],
    colours: ['black', 'white', 'silver', 'blue'], styles: ['noise cancelling', 'studio'], features: ['bluetooth'],
  },
  // ── home improvement ──
  {
    id: 'cordless_drill', category: 'home', one: 'cordless drill', many: 'cordless drills', synonyms: ['drill', 'drills', 'power drill', 'drill driver'],
    brands: ['DeWalt', 'Makita', 'Ryobi', 'Milwaukee', 'Bosch'],
    substitutes: ['impact_driver'],
    related: [{ type: 'drill_bits', kind: 'accessory' }, { type: 'drill_battery', kind: 'part' }],
    size: { kind: 'measure', unit: 'v', values: ['12', '18', '20'] }, styles: ['brushless', 'compact'],
  },
  {
    id: 'impact_driver', category: 'home', one: 'impact driver', many: 'impact drivers', synonyms: [],
    brands: ['DeWalt', 'Makita', 'Ryobi', 'Milwaukee'],
    substitutes: ['cordless_drill'],
    related: [{ type: 'drill_battery', kind: 'part' }],
    size: { kind: 'measure', unit: 'v', values: ['12', '18', '20'] }, styles: ['brushless', 'compact'],
  },
  {
    id: 'drill_bits', category: 'home', one: 'drill bit set', many: 'drill bit sets', synonyms: ['drill bits', 'drill bit'],
    brands: ['DeWalt', 'Bosch', 'Irwin'],
    materials: ['titanium', 'cobalt', 'carbide'], packs: [10, 21, 29, 100],
  },
  {
    id: 'drill_battery', category: 'home', one: 'drill battery', many: 'drill batteries', synonyms: ['tool battery'],
    brands: ['DeWalt', 'Makita', 'Ryobi', 'Milwaukee'],
    size: { kind: 'measure', unit: 'v', values: ['12', '18', '20'] }, packs: [1, 2],
  },
  {
    id: 'interior_paint', category: 'home', one: 'interior paint', many: 'interior paints', synonyms: ['wall paint', 'paint'],
    brands: ['Behr', 'Valspar', 'Sherwin-Williams'],
    related: [{ type: 'paint_roller', kind: 'accessory' }, { type: 'painters_tape', kind: 'complement' }],
    size: { kind: 'measure', unit: 'gallon', values: ['1', '5'] }, colours: ['white', 'beige', 'grey', 'blue', 'green'],
    styles: ['eggshell', 'satin', 'semi gloss', 'flat'], features: ['voc'],
  },
  {
    id: 'paint_roller', category: 'home', one: 'paint roller', many: 'paint rollers', synonyms: ['roller'],
    brands: ['Wooster', 'Purdy'],
    size: { kind: 'measure', unit: 'inch', values: ['4', '9', '18'] }, materials: ['microfiber', 'foam'], packs: [1, 3, 6],
  },
  {
    id: 'painters_tape', category: 'home', one: "painter's tape", many: "painter's tape", synonyms: ['painters tape', 'masking tape'],
    brands: ['ScotchBlue', 'FrogTape'],
    size: { kind: 'measure', unit: 'inch', values: ['1', '1.5', '2'] }, colours: ['blue', 'green', 'yellow'], packs: [1, 3, 6],
  },
  {
    id: 'ladder', category: 'home', one: 'step ladder', many: 'step ladders', synonyms: ['ladder', 'ladders', 'step stool'],
    brands: ['Werner', 'Little Giant', 'Gorilla'],
    size: { kind: 'measure', unit: 'ft', values: ['4', '6', '8'] }, materials: ['aluminum', 'fiberglass', 'steel'],
  },
  // ── beauty ──
  {
    id: 'shampoo', category: 'beauty', one: 'shampoo', many: 'shampoos', synonyms: [],
    brands: ['Pantene', 'Dove', 'OGX', 'Head & Shoulders'],
    related: [{ type: 'conditioner', kind: 'complement' }],
    size: { kind: 'measure', unit: 'oz', values: ['12', '20', '28'] }, styles: ['clarifying', 'moisturizing'],
    packs: [1, 2, 3], features: ['sulfate', 'fragrance'],
  },
  {
    id: 'conditioner', category: 'beauty', one: 'conditioner', many: 'conditioners', synonyms: ['hair conditioner'],
    brands: ['Pantene', 'Dove', 'OGX'],
    related: [{ type: 'shampoo', kind: 'complement' }],
    size: { kind: 'measure', unit: 'oz', values: ['12', '20', '28'] }, styles: ['leave in', 'moisturizing'],
    packs: [1, 2], features: ['sulfate', 'fragrance'],
  },
  {
    id: 'moisturizer', category: 'beauty', one: 'face moisturizer', many: 'face moisturizers', synonyms: ['moisturizer', 'face cream'],
    brands: ['CeraVe', 'Neutrogena', 'Olay', 'La Roche-Posay'],
    audience: true, size: { kind: 'measure', unit: 'oz', values: ['1.7', '2.5', '3'] }, styles: ['night', 'tinted'],
    features: ['fragrance', 'oil'],
  },
  {
    id: 'razor', category: 'beauty', one: 'razor', many: 'razors', synonyms: ['safety razor'],
    brands: ['Gillette', 'Schick', "Harry's"],
    substitutes: ['electric_shaver'],
    related: [{ type: 'razor_blades', kind: 'part' }, { type: 'shaving_cream', kind: 'complement' }],
    audience: true, colours: ['black', 'blue', 'pink', 'silver'], packs: [1, 2, 4], materials: ['plastic', 'stainless steel'],
  },
  {
    id: 'electric_shaver', category: 'beauty', one: 'electric shaver', many: 'electric shavers', synonyms: ['electric razor'],
    brands: ['Philips', 'Braun', 'Panasonic'],
    substitutes: ['razor'],
    audience: true, colours: ['black', 'silver', 'blue'], styles: ['rotary', 'foil'],
  },
  {
    id: 'razor_blades', category: 'beauty', one: 'razor blades', many: 'razor blades', synonyms: ['razor refills', 'blade refills'],
    brands: ['Gillette', 'Schick', "Harry's"],
    audience: true, packs: [4, 8, 12],
  },
  {
    id: 'shaving_cream', category: 'beauty', one: 'shaving cream', many: 'shaving creams', synonyms: ['shave gel', 'shaving foam'],
    brands: ['Barbasol', 'Gillette', 'Cremo'],
    audience: true, size: { kind: 'measure', unit: 'oz', values: ['6', '7', '10'] }, packs: [1, 3, 6], features: ['fragrance'],
  },
  // ── grocery ──
  {
    id: 'coffee_beans', category: 'grocery', one: 'coffee beans', many: 'coffee beans', synonyms: ['whole bean coffee', 'ground coffee', 'coffee'],
    brands: ['Starbucks', 'Lavazza', "Peet's", 'Death Wish'],
    substitutes: ['coffee_pods'],
    related: [{ type: 'coffee_maker', kind: 'complement' }, { type: 'coffee_filter', kind: 'complement' }],
    size: { kind: 'measure', unit: 'oz', values: ['12', '16', '32'] }, styles: ['dark roast', 'medium roast', 'light roast'],
    packs: [1, 2, 3], features: ['caffeine'],
  },
  {
    id: 'coffee_pods', category: 'grocery', one: 'coffee pods', many: 'coffee pods', synonyms: ['coffee capsules', 'capsules', 'pods'],
    brands: ['Nespresso', 'Starbucks', "Peet's"], compatWith: 'espresso_machine',
    substitutes: ['coffee_beans'],
    styles: ['dark roast', 'medium roast', 'light roast'], packs: [10, 30, 50], features: ['caffeine'],
  },
  {
    id: 'energy_drink', category: 'grocery', one: 'energy drink', many: 'energy drinks', synonyms: [],
    brands: ['Red Bull', 'Monster', 'Celsius', 'Bang'],
    substitutes: ['sports_drink'],
    size: { kind: 'measure', unit: 'oz', values: ['8.4', '12', '16'] }, styles: ['tropical', 'berry', 'citrus'],
    packs: [4, 12, 24], features: ['sugar'],
  },
  {
    id: 'sports_drink', category: 'grocery', one: 'sports drink', many: 'sports drinks', synonyms: ['electrolyte drink'],
    brands: ['Gatorade', 'Powerade', 'BodyArmor'],
    substitutes: ['energy_drink'],
    size: { kind: 'measure', unit: 'oz', values: ['12', '20', '28'] }, styles: ['berry', 'citrus', 'fruit punch'],
    packs: [6, 12, 24], features: ['sugar'],
  },
  {
    id: 'granola', category: 'grocery', one: 'granola', many: 'granola', synonyms: ['granola cereal'],
    brands: ['Nature Valley', 'KIND', 'Bear Naked'],
    substitutes: ['protein_bar'],
    size: { kind: 'measure', unit: 'oz', values: ['11', '16', '32'] }, styles: ['honey', 'chocolate', 'vanilla'],
    packs: [1, 2, 4], features: ['sugar', 'gluten'],
  },
  {
    id: 'protein_bar', category: 'grocery', one: 'protein bar', many: 'protein bars', synonyms: [],
    brands: ['Quest', 'RXBAR', 'Clif'],
    substitutes: ['granola'],
    styles: ['chocolate', 'peanut butter', 'vanilla'], packs: [4, 12, 24], features: ['sugar', 'gluten'],
  },
  // ── outdoors ──
  {
    id: 'tent', category: 'outdoors', one: 'tent', many: 'tents', synonyms: ['camping tent', 'camping tents'],
    brands: ['Coleman', 'REI', 'Big Agnes', 'MSR'],
    related: [{ type: 'sleeping_bag', kind: 'complement' }],
    size: { kind: 'measure', unit: 'person', values: ['1', '2', '4', '6'] }, colours: ['green', 'grey', 'orange', 'blue'],
    materials: ['nylon', 'polyester'], styles: ['ultralight', 'pop up', 'dome'],
  },
  {
    id: 'sleeping_bag', category: 'outdoors', one: 'sleeping bag', many: 'sleeping bags', synonyms: [],
    brands: ['Coleman', 'Marmot', 'Kelty', 'TETON'],
    related: [{ type: 'tent', kind: 'complement' }],
    audience: true, size: { kind: 'measure', unit: 'degree', values: ['0', '20', '30', '40'] }, colours: ['green', 'blue', 'red', 'grey'],
    materials: ['down', 'synthetic'], styles: ['mummy', 'rectangular'],
  },
  {
    id: 'water_bottle', category: 'outdoors', one: 'water bottle', many: 'water bottles', synonyms: ['insulated bottle'],
    brands: ['Hydro Flask', 'Nalgene', 'CamelBak', 'Yeti'],
    substitutes: ['tumbler'],
    size: { kind: 'measure', unit: 'oz', values: ['20', '24', '32', '40'] }, colours: BASIC_COLOURS,
    materials: ['stainless steel', 'plastic', 'glass'], styles: ['wide mouth', 'straw lid'], packs: [1, 2], features: ['bpa'],
  },
  {
    id: 'tumbler', category: 'outdoors', one: 'tumbler', many: 'tumblers', synonyms: ['travel mug'],
    brands: ['Yeti', 'Stanley', 'Owala'],
    substitutes: ['water_bottle'],
    size: { kind: 'measure', unit: 'oz', values: ['20', '30', '40'] }, colours: BASIC_COLOURS,
    materials: ['stainless steel', 'plastic'], styles: ['straw lid', 'handle'], features: ['bpa'],
  },
  {
    id: 'backpack', category: 'outdoors', one: 'hiking backpack', many: 'hiking backpacks', synonyms: ['backpack', 'backpacks', 'daypack'],
    brands: ['Osprey', 'Deuter', 'Gregory', 'REI'],
    audience: true, size: { kind: 'measure', unit: 'l', values: ['20', '30', '40', '65'] }, colours: ['black', 'blue', 'green', 'red', 'grey'],
    materials: ['nylon', 'polyester'], styles: ['ultralight', 'hydration'],
  },
  {
    id: 'headlamp', category: 'outdoors', one: 'headlamp', many: 'headlamps', synonyms: ['head torch'],
    brands: ['Black Diamond', 'Petzl', 'Fenix'],
    substitutes: ['flashlight'],
    colours: ['black', 'red', 'blue', 'orange'], styles: ['rechargeable'], packs: [1, 2],
  },
  {
    id: 'flashlight', category: 'outdoors', one: 'flashlight', many: 'flashlights', synonyms: ['torch'],
    brands: ['Maglite', 'Fenix', 'Streamlight'],
    substitutes: ['headlamp'],
    colours: ['black', 'silver', 'red'], materials: ['aluminum', 'plastic'], styles: ['rechargeable', 'tactical'], packs: [1, 2, 4],
  },
];

/** Features a shopper can exclude, with the words a listing uses to say it has or lacks them. */
export interface FeatureDef {
  id: string;
  /** the noun as queries negate it: "without {word}", "{word} free" */
  word: string;
  /** listing phrases meaning the product has it */
  has: string[];
  /** listing phrases meaning the product lacks it */
  lacks: string[];
}

export const FEATURES: FeatureDef[] = [
  { id: 'bluetooth', word: 'bluetooth', has: ['Bluetooth'], lacks: ['Wired', 'No Bluetooth'] },
  { id: 'sugar', word: 'sugar', has: ['with Sugar', 'Sweetened'], lacks: ['Sugar-Free', 'Zero Sugar', 'Unsweetened'] },
  { id: 'caffeine', word: 'caffeine', has: ['Caffeinated'], lacks: ['Decaf', 'Caffeine-Free'] },
  { id: 'bpa', word: 'BPA', has: [], lacks: ['BPA-Free'] },
  { id: 'gluten', word: 'gluten', has: ['Contains Gluten'], lacks: ['Gluten-Free'] },
  { id: 'fragrance', word: 'fragrance', has: ['Scented'], lacks: ['Fragrance-Free', 'Unscented'] },
  { id: 'sulfate', word: 'sulfate', has: ['with Sulfates'], lacks: ['Sulfate-Free'] },
  { id: 'oil', word: 'oil', has: [], lacks: ['Oil-Free'] },
  { id: 'voc', word: 'VOC', has: [], lacks: ['Zero VOC', 'VOC-Free'] },
  // "non-stick" is the rules' own example of a negation: the pan must not let food stick.
  { id: 'stick', word: 'stick', has: [], lacks: ['Non-Stick', 'Nonstick'] },
];

export const COLOURS = [
  'black', 'white', 'grey', 'red', 'blue', 'navy', 'green', 'pink', 'purple', 'yellow', 'orange', 'brown', 'beige',
  'silver', 'gold', 'clear',
];
/** spelling variants that mean the same colour */
export const COLOUR_SYNONYMS: Record<string, string> = { gray: 'grey' };

export const AUDIENCES = ['women', 'men', 'kids'] as const;
export type Audience = (typeof AUDIENCES)[number];
/** every written form → the audience it names */
export const AUDIENCE_FORMS: Record<string, Audience> = {
  women: 'women', "women's": 'women', womens: 'women', ladies: 'women', woman: 'women',
  men: 'men', "men's": 'men', mens: 'men', man: 'men',
  kids: 'kids', "kids'": 'kids', kid: 'kids', "kid's": 'kids', "children's": 'kids', childrens: 'kids', children: 'kids',
};
/** how a title writes each audience */
export const AUDIENCE_TITLE: Record<Audience, string[]> = {
  women: ["Women's", 'Womens'],
  men: ["Men's", 'Mens'],
  kids: ["Kids'", "Children's"],
};

export type PriceTier = 'budget' | 'mid' | 'premium';
/** price words in queries → the price band they ask for */
export const PRICE_WORDS: Record<string, 'budget' | 'premium'> = {
  cheap: 'budget', budget: 'budget', affordable: 'budget', inexpensive: 'budget',
  premium: 'premium', luxury: 'premium', 'high end': 'premium',
};

/** units of measure and their written variants → canonical unit */
export const UNIT_FORMS: Record<string, string> = {
  cup: 'cup', cups: 'cup',
  bar: 'bar',
  oz: 'oz', ounce: 'oz', ounces: 'oz', floz: 'oz',
  qt: 'qt', quart: 'qt', quarts: 'qt',
  l: 'l', liter: 'l', liters: 'l', litre: 'l', litres: 'l', ltr: 'l',
  gb: 'gb',
  v: 'v', volt: 'v', volts: 'v',
  gallon: 'gallon', gallons: 'gallon', gal: 'gallon',
  inch: 'inch', inches: 'inch',
  ft: 'ft', foot: 'ft', feet: 'ft',
  person: 'person', people: 'person',
  degree: 'degree', degrees: 'degree', deg: 'degree',
};
/** how titles and queries write a canonical unit */
export const UNIT_DISPLAY: Record<string, string[]> = {
  cup: ['Cup'], bar: ['Bar'], oz: ['oz', 'Ounce'], qt: ['Qt', 'Quart'], l: ['L', 'Liter'], gb: ['GB'], v: ['V', 'Volt'],
  gallon: ['Gallon'], inch: ['Inch'], ft: ['ft', 'Foot'], person: ['Person'], degree: ['Degree'],
};
/** words that turn a number into a pack count: "6 pack", "12 count", "pack of 6" */
export const PACK_WORDS = ['pack', 'pk', 'count', 'ct', 'pcs', 'pieces', 'piece'];

export const APPAREL_SIZE_FORMS: Record<string, string> = {
  xs: 'xs', 'x small': 'xs', 'extra small': 'xs',
  s: 's', small: 's',
  m: 'm', medium: 'm',
  l: 'l', large: 'l',
  xl: 'xl', 'x large': 'xl', 'extra large': 'xl',
  xxl: 'xxl', '2xl': 'xxl', 'xx large': 'xxl',
};
export const APPAREL_SIZE_DISPLAY: Record<string, string[]> = {
  xs: ['XS', 'X-Small'], s: ['S', 'Small'], m: ['M', 'Medium'], l: ['L', 'Large'], xl: ['XL', 'X-Large'], xxl: ['XXL', '2XL'],
};
