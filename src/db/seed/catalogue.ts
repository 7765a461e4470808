/**
 * The vocabulary generated store data is built from: categories with their
 * products and typical prices, brands, adjectives and people's names.
 *
 * It is passed to Postgres as array parameters so rows can be generated
 * server-side; every category lists the same number of nouns because a
 * two-dimensional Postgres array must be rectangular.
 */

/**
 * One store category and what it sells.
 *
 * @example
 * const books: Category = CATEGORIES.find((c) => c.code === 'BOO')!;
 */
export interface Category {
  name: string;
  /** Three letters that start the SKU. */
  code: string;
  /** A typical price; generated prices range from about ¼ to 3× of it. */
  basePriceCents: number;
  nouns: readonly [string, string, string, string, string, string, string, string];
}

/**
 * The twenty store categories.
 *
 * @example
 * CATEGORIES.map((c) => c.name); // ['Electronics', 'Kitchen', ...]
 */
export const CATEGORIES: readonly Category[] = [
  {
    name: 'Electronics',
    code: 'ELE',
    basePriceCents: 6_000,
    nouns: [
      'Headphones',
      'Bluetooth Speaker',
      'USB-C Charger',
      'Power Bank',
      'Smartwatch',
      'Webcam',
      'Wireless Mouse',
      'Mechanical Keyboard',
    ],
  },
  {
    name: 'Kitchen',
    code: 'KIT',
    basePriceCents: 3_500,
    nouns: ["Chef's Knife", 'Cutting Board', 'Espresso Machine', 'Stand Mixer', 'Cast Iron Skillet', 'Toaster', 'Kettle', 'Blender'],
  },
  {
    name: 'Furniture',
    code: 'FUR',
    basePriceCents: 15_000,
    nouns: ['Desk Chair', 'Bookshelf', 'Coffee Table', 'Floor Lamp', 'Nightstand', 'Standing Desk', 'Bar Stool', 'Storage Bench'],
  },
  {
    name: 'Garden',
    code: 'GAR',
    basePriceCents: 2_500,
    nouns: ['Pruning Shears', 'Garden Hose', 'Planter', 'Watering Can', 'Seed Starter Kit', 'Rake', 'Wheelbarrow', 'Bird Feeder'],
  },
  {
    name: 'Sports & Outdoors',
    code: 'SPO',
    basePriceCents: 4_000,
    nouns: ['Yoga Mat', 'Dumbbell Set', 'Running Shorts', 'Water Bottle', 'Camping Tent', 'Sleeping Bag', 'Hiking Poles', 'Jump Rope'],
  },
  {
    name: 'Toys & Games',
    code: 'TOY',
    basePriceCents: 2_500,
    nouns: ['Jigsaw Puzzle', 'Board Game', 'Building Blocks', 'Plush Bear', 'Kite', 'Card Game', 'Model Train', 'Dollhouse'],
  },
  {
    name: 'Books',
    code: 'BOO',
    basePriceCents: 1_800,
    nouns: ['Cookbook', 'Travel Guide', 'Mystery Novel', 'Field Guide', 'Poetry Collection', 'Atlas', 'Biography', 'Sketchbook'],
  },
  {
    name: 'Clothing',
    code: 'CLO',
    basePriceCents: 3_500,
    nouns: ['T-Shirt', 'Hoodie', 'Rain Jacket', 'Wool Sweater', 'Chinos', 'Denim Jacket', 'Scarf', 'Beanie'],
  },
  {
    name: 'Shoes',
    code: 'SHO',
    basePriceCents: 7_000,
    nouns: ['Sneakers', 'Hiking Boots', 'Sandals', 'Loafers', 'Running Shoes', 'Slippers', 'Rain Boots', 'Trail Runners'],
  },
  {
    name: 'Beauty',
    code: 'BEA',
    basePriceCents: 1_500,
    nouns: ['Face Cream', 'Lip Balm', 'Shampoo', 'Hand Soap', 'Sunscreen', 'Body Lotion', 'Hair Oil', 'Face Mask'],
  },
  {
    name: 'Health',
    code: 'HEA',
    basePriceCents: 2_000,
    nouns: [
      'Vitamin D Drops',
      'First Aid Kit',
      'Thermometer',
      'Heating Pad',
      'Massage Ball',
      'Pill Organizer',
      'Hand Sanitizer',
      'Knee Brace',
    ],
  },
  {
    name: 'Pet Supplies',
    code: 'PET',
    basePriceCents: 2_500,
    nouns: ['Dog Leash', 'Cat Tree', 'Pet Bed', 'Chew Toy', 'Food Bowl', 'Litter Box', 'Grooming Brush', 'Bird Cage'],
  },
  {
    name: 'Office',
    code: 'OFF',
    basePriceCents: 2_000,
    nouns: ['Fountain Pen', 'Desk Organizer', 'Stapler', 'Notebook', 'Whiteboard', 'Paper Shredder', 'Label Maker', 'Monitor Stand'],
  },
  {
    name: 'Automotive',
    code: 'AUT',
    basePriceCents: 4_000,
    nouns: ['Car Charger', 'Tire Inflator', 'Dash Cam', 'Seat Cover', 'Jump Starter', 'Floor Mats', 'Wiper Blades', 'Phone Mount'],
  },
  {
    name: 'Tools',
    code: 'TOO',
    basePriceCents: 4_500,
    nouns: [
      'Cordless Drill',
      'Screwdriver Set',
      'Tape Measure',
      'Socket Wrench',
      'Claw Hammer',
      'Spirit Level',
      'Utility Knife',
      'Work Light',
    ],
  },
  {
    name: 'Grocery',
    code: 'GRO',
    basePriceCents: 800,
    nouns: ['Olive Oil', 'Coffee Beans', 'Green Tea', 'Dark Chocolate', 'Honey', 'Pasta', 'Granola', 'Hot Sauce'],
  },
  {
    name: 'Baby',
    code: 'BAB',
    basePriceCents: 4_000,
    nouns: ['Baby Monitor', 'Stroller', 'High Chair', 'Diaper Bag', 'Teething Ring', 'Crib Sheet', 'Bottle Warmer', 'Baby Carrier'],
  },
  {
    name: 'Music',
    code: 'MUS',
    basePriceCents: 6_000,
    nouns: ['Acoustic Guitar', 'Ukulele', 'Guitar Strings', 'Keyboard Stand', 'Drumsticks', 'Harmonica', 'Metronome', 'Microphone'],
  },
  {
    name: 'Jewelry',
    code: 'JEW',
    basePriceCents: 5_000,
    nouns: ['Silver Ring', 'Pendant Necklace', 'Stud Earrings', 'Charm Bracelet', 'Watch Strap', 'Cufflinks', 'Anklet', 'Brooch'],
  },
  {
    name: 'Arts & Crafts',
    code: 'ART',
    basePriceCents: 1_500,
    nouns: [
      'Watercolor Set',
      'Sketch Pencils',
      'Acrylic Paint',
      'Canvas Pad',
      'Knitting Yarn',
      'Glue Gun',
      'Embroidery Kit',
      'Modelling Clay',
    ],
  },
];

/**
 * Brands that start product names.
 *
 * @example
 * BRANDS[0] // 'Northwind'
 */
export const BRANDS: readonly string[] = [
  'Northwind',
  'Acme',
  'Bluefin',
  'Cedar & Co',
  'Kestrel',
  'Lumen',
  'Maple Lane',
  'Orbit',
  'Pinecrest',
  'Quill',
  'Redwood',
  'Summit',
  'Tidewater',
  'Urban Loft',
  'Vantage',
  'Willow',
  'Zephyr',
  'Harbor',
  'Ironclad',
  'Juniper',
];

/**
 * Adjectives between brand and noun.
 *
 * @example
 * `${BRANDS[0]} ${ADJECTIVES[0]} Kettle` // 'Northwind Classic Kettle'
 */
export const ADJECTIVES: readonly string[] = [
  'Classic',
  'Compact',
  'Deluxe',
  'Essential',
  'Everyday',
  'Premium',
  'Lightweight',
  'Durable',
  'Modern',
  'Vintage',
  'Travel',
  'Signature',
  'Original',
  'Studio',
  'Pro',
  'Mini',
];

/**
 * Customers' first names; ASCII letters only, as they also form email addresses.
 *
 * @example
 * FIRST_NAMES[0] // 'Ada'
 */
export const FIRST_NAMES: readonly string[] = [
  'Ada',
  'Alan',
  'Amara',
  'Ben',
  'Chen',
  'Clara',
  'David',
  'Elena',
  'Farah',
  'George',
  'Hana',
  'Ivan',
  'Jamal',
  'Julia',
  'Kenji',
  'Laura',
  'Mateo',
  'Mei',
  'Nadia',
  'Omar',
  'Priya',
  'Rafael',
  'Sara',
  'Sofia',
  'Tomas',
  'Uma',
  'Victor',
  'Wen',
  'Yusuf',
  'Zoe',
];

/**
 * Customers' last names; ASCII letters only, as they also form email addresses.
 *
 * @example
 * LAST_NAMES[0] // 'Adams'
 */
export const LAST_NAMES: readonly string[] = [
  'Adams',
  'Baker',
  'Costa',
  'Dubois',
  'Evans',
  'Fischer',
  'Garcia',
  'Hansen',
  'Ibrahim',
  'Jensen',
  'Kim',
  'Larsen',
  'Martin',
  'Nakamura',
  'Novak',
  'Okafor',
  'Patel',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Silva',
  'Tanaka',
  'Usman',
  'Varga',
  'Walker',
  'Xu',
  'Yilmaz',
  'Zhang',
  'Moreau',
  'Lindqvist',
];
