-- The four CSV files as SQLite tables, one table per file, named after the file and typed as the
-- values are (what pandas.DataFrame.to_sql would make of seaborn.load_dataset): whole numbers
-- INTEGER, decimals REAL, words TEXT, True/False as 1/0. An empty cell is NULL.
CREATE TABLE titanic (
  survived INTEGER,
  pclass INTEGER,
  sex TEXT,
  age REAL,
  sibsp INTEGER,
  parch INTEGER,
  fare REAL,
  embarked TEXT,
  class TEXT,
  who TEXT,
  adult_male INTEGER,
  deck TEXT,
  embark_town TEXT,
  alive TEXT,
  alone INTEGER
);

CREATE TABLE penguins (
  species TEXT,
  island TEXT,
  bill_length_mm REAL,
  bill_depth_mm REAL,
  flipper_length_mm REAL,
  body_mass_g REAL,
  sex TEXT
);

CREATE TABLE tips (
  total_bill REAL,
  tip REAL,
  sex TEXT,
  smoker TEXT,
  day TEXT,
  time TEXT,
  size INTEGER
);

CREATE TABLE flights (
  year INTEGER,
  month TEXT,
  passengers INTEGER
);
