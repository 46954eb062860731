"""Question sets with gold SQL for four public databases the planner was not written for.

Written before looking at how the planner parses: everyday wording, each question with the SQL a
person would write for it. An answer is judged by comparing its rows (the planner's SQL re-run in
full) with the gold SQL's rows: every gold column must be found among the answer's columns (extra
columns, such as an id beside a name, are fine), rows compared as a set unless the question orders
them. A follow-up sequence is judged on its last turn.

Categories: count, total, average, group, top, time, filter, comparison, negation, listing, schema,
chart, followup.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The day each database is asked on, so relative dates ("last month") are known.
NORTHWIND_TODAY = dt.date(2018, 5, 20)
SAKILA_TODAY = dt.date(2007, 6, 15)
CHINOOK_TODAY = dt.date(2026, 1, 10)  # the last invoice is dated 2025-12-22

REVENUE = "od.UnitPrice * od.Quantity * (1 - od.Discount)"
EMPLOYEE = "e.FirstName || ' ' || e.LastName"


@dataclass(frozen=True)
class Question:
    category: str
    turns: tuple[str, ...]  # the question, or a follow-up sequence judged on its last turn
    sql: str
    ordered: bool = False
    # Another reading the wording allows as fairly ("payments taken by Mike versus Jon": their
    # number or their amount); an answer matching either is right.
    also: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " / ".join(self.turns)


def q(
    category: str,
    question: str | tuple[str, ...],
    sql: str,
    ordered: bool = False,
    also: tuple[str, ...] = (),
) -> Question:
    turns = (question,) if isinstance(question, str) else question
    return Question(category, turns, " ".join(sql.split()), ordered, tuple(" ".join(a.split()) for a in also))


NORTHWIND: tuple[Question, ...] = (
    # counts
    q("count", "How many customers do we have?", "SELECT COUNT(*) FROM Customers"),
    q("count", "How many orders are in the database?", "SELECT COUNT(*) FROM Orders"),
    q("count", "How many products are there?", "SELECT COUNT(*) FROM Products"),
    q("count", "How many employees work here?", "SELECT COUNT(*) FROM Employees"),
    q("count", "How many suppliers have we got?", "SELECT COUNT(*) FROM Suppliers"),
    q(
        "count",
        "How many customers are in Germany?",
        "SELECT COUNT(*) FROM Customers WHERE Country = 'Germany'",
    ),
    q(
        "count",
        "How many orders were shipped to France?",
        "SELECT COUNT(*) FROM Orders WHERE ShipCountry = 'France'",
    ),
    q(
        "count",
        "How many products are discontinued?",
        "SELECT COUNT(*) FROM Products WHERE Discontinued = '1'",
    ),
    # totals
    q("total", "What is the total freight?", "SELECT SUM(Freight) FROM Orders"),
    q("total", "What is the total revenue?", f"SELECT SUM({REVENUE}) FROM [Order Details] od"),
    q("total", "How many units have been ordered in total?", "SELECT SUM(Quantity) FROM [Order Details]"),
    q(
        "total",
        "Total freight by ship country",
        "SELECT ShipCountry, SUM(Freight) FROM Orders GROUP BY ShipCountry",
    ),
    q("total", "How many units are in stock altogether?", "SELECT SUM(UnitsInStock) FROM Products"),
    # averages
    q("average", "What is the average unit price of our products?", "SELECT AVG(UnitPrice) FROM Products"),
    q("average", "Average freight per order", "SELECT AVG(Freight) FROM Orders"),
    q(
        "average",
        "What's the average freight by shipper?",
        "SELECT s.CompanyName, AVG(o.Freight) FROM Orders o JOIN Shippers s ON o.ShipVia = s.ShipperID"
        " GROUP BY s.ShipperID",
    ),
    q(
        "average",
        "average price by category",
        "SELECT c.CategoryName, AVG(p.UnitPrice) FROM Products p JOIN Categories c ON p.CategoryID = c.CategoryID"
        " GROUP BY c.CategoryID",
    ),
    q("average", "What is the average quantity per order line?", "SELECT AVG(Quantity) FROM [Order Details]"),
    # grouping through joins
    q(
        "group",
        "Number of products in each category",
        "SELECT c.CategoryName, COUNT(*) FROM Products p JOIN Categories c ON p.CategoryID = c.CategoryID"
        " GROUP BY c.CategoryID",
    ),
    q(
        "group",
        "How many orders did each employee take?",
        f"SELECT {EMPLOYEE}, COUNT(*) FROM Orders o JOIN Employees e ON o.EmployeeID = e.EmployeeID"
        " GROUP BY e.EmployeeID",
    ),
    q("group", "Customers per country", "SELECT Country, COUNT(*) FROM Customers GROUP BY Country"),
    q(
        "group",
        "How many orders has each shipper delivered?",
        "SELECT s.CompanyName, COUNT(*) FROM Orders o JOIN Shippers s ON o.ShipVia = s.ShipperID GROUP BY s.ShipperID",
    ),
    q(
        "group",
        "Revenue by category",
        f"SELECT c.CategoryName, SUM({REVENUE}) FROM [Order Details] od JOIN Products p ON od.ProductID = p.ProductID"
        " JOIN Categories c ON p.CategoryID = c.CategoryID GROUP BY c.CategoryID",
    ),
    q(
        "group",
        "How many products does each supplier provide?",
        "SELECT s.CompanyName, COUNT(*) FROM Products p JOIN Suppliers s ON p.SupplierID = s.SupplierID"
        " GROUP BY s.SupplierID",
    ),
    q(
        "group",
        "Units sold per product category",
        "SELECT c.CategoryName, SUM(od.Quantity) FROM [Order Details] od JOIN Products p ON od.ProductID = p.ProductID"
        " JOIN Categories c ON p.CategoryID = c.CategoryID GROUP BY c.CategoryID",
    ),
    q(
        "group",
        "Revenue per customer country",
        f"SELECT cu.Country, SUM({REVENUE}) FROM [Order Details] od JOIN Orders o ON od.OrderID = o.OrderID"
        " JOIN Customers cu ON o.CustomerID = cu.CustomerID GROUP BY cu.Country",
    ),
    # top / bottom N
    q(
        "top",
        "What are the 5 most expensive products?",
        "SELECT ProductName, UnitPrice FROM Products ORDER BY UnitPrice DESC LIMIT 5",
        ordered=True,
    ),
    q(
        "top",
        "Which 3 products are the cheapest?",
        "SELECT ProductName, UnitPrice FROM Products ORDER BY UnitPrice ASC LIMIT 3",
        ordered=True,
    ),
    q(
        "top",
        "Who are our top 5 customers by revenue?",
        f"SELECT cu.CompanyName, SUM({REVENUE}) AS r FROM [Order Details] od JOIN Orders o ON od.OrderID = o.OrderID"
        " JOIN Customers cu ON o.CustomerID = cu.CustomerID GROUP BY cu.CustomerID ORDER BY r DESC LIMIT 5",
        ordered=True,
    ),
    q(
        "top",
        "What are the 5 best-selling products?",
        "SELECT p.ProductName, SUM(od.Quantity) AS n FROM [Order Details] od JOIN Products p"
        " ON od.ProductID = p.ProductID GROUP BY p.ProductID ORDER BY n DESC LIMIT 5",
        ordered=True,
    ),
    q(
        "top",
        "Which employee handled the most orders?",
        f"SELECT {EMPLOYEE}, COUNT(*) AS n FROM Orders o JOIN Employees e ON o.EmployeeID = e.EmployeeID"
        " GROUP BY e.EmployeeID ORDER BY n DESC LIMIT 1",
        ordered=True,
    ),
    q(
        "top",
        "Which 3 countries have the most customers?",
        "SELECT Country, COUNT(*) AS n FROM Customers GROUP BY Country ORDER BY n DESC LIMIT 3",
    ),
    q(
        "top",
        "Which category has the fewest products?",
        "SELECT c.CategoryName, COUNT(*) AS n FROM Products p JOIN Categories c ON p.CategoryID = c.CategoryID"
        " GROUP BY c.CategoryID ORDER BY n ASC LIMIT 1",
    ),
    q(
        "top",
        "Which shipper carried the most freight?",
        "SELECT s.CompanyName, SUM(o.Freight) AS f FROM Orders o JOIN Shippers s ON o.ShipVia = s.ShipperID"
        " GROUP BY s.ShipperID ORDER BY f DESC LIMIT 1",
    ),
    q(
        "top",
        "Which supplier has the highest average product price?",
        "SELECT s.CompanyName, AVG(p.UnitPrice) AS a FROM Products p JOIN Suppliers s ON p.SupplierID = s.SupplierID"
        " GROUP BY s.SupplierID ORDER BY a DESC LIMIT 1",
    ),
    q(
        "top",
        "Which 3 categories brought in the least revenue?",
        f"SELECT c.CategoryName, SUM({REVENUE}) AS r FROM [Order Details] od JOIN Products p"
        " ON od.ProductID = p.ProductID JOIN Categories c ON p.CategoryID = c.CategoryID"
        " GROUP BY c.CategoryID ORDER BY r ASC LIMIT 3",
        ordered=True,
    ),
    # time ranges and series
    q(
        "time",
        "How many orders were placed in 2017?",
        "SELECT COUNT(*) FROM Orders WHERE OrderDate LIKE '2017%'",
    ),
    q(
        "time",
        "Orders per month in 2017",
        "SELECT substr(OrderDate, 1, 7) AS m, COUNT(*) FROM Orders WHERE OrderDate LIKE '2017%' GROUP BY m",
        ordered=True,
    ),
    q(
        "time",
        "Revenue by year",
        f"SELECT substr(o.OrderDate, 1, 4) AS y, SUM({REVENUE}) FROM [Order Details] od JOIN Orders o"
        " ON od.OrderID = o.OrderID GROUP BY y",
        ordered=True,
    ),
    q(
        "time",
        "How many orders did we get last month?",
        "SELECT COUNT(*) FROM Orders WHERE OrderDate >= '2018-04-01' AND OrderDate < '2018-05-01'",
    ),
    q(
        "time",
        "Total freight by month in 2018",
        "SELECT substr(OrderDate, 1, 7) AS m, SUM(Freight) FROM Orders WHERE OrderDate LIKE '2018%' GROUP BY m",
        ordered=True,
    ),
    q(
        "time",
        "How many employees were hired after 2013?",
        "SELECT COUNT(*) FROM Employees WHERE HireDate >= '2014-01-01'",
    ),
    q(
        "time",
        "How many orders were placed between March 1 and May 31, 2017?",
        "SELECT COUNT(*) FROM Orders WHERE OrderDate >= '2017-03-01' AND OrderDate <= '2017-05-31'",
    ),
    q(
        "time",
        "What was the revenue in 2016?",
        f"SELECT SUM({REVENUE}) FROM [Order Details] od JOIN Orders o ON od.OrderID = o.OrderID"
        " WHERE o.OrderDate LIKE '2016%'",
    ),
    # value filters
    q("filter", "Products priced over 50 dollars", "SELECT ProductName FROM Products WHERE UnitPrice > 50"),
    q("filter", "Customers in London", "SELECT CompanyName FROM Customers WHERE City = 'London'"),
    q("filter", "Which products cost less than 10?", "SELECT ProductName FROM Products WHERE UnitPrice < 10"),
    q("filter", "Orders with freight above 500", "SELECT OrderID FROM Orders WHERE Freight > 500"),
    q(
        "filter",
        "Products with fewer than 10 units in stock",
        "SELECT ProductName FROM Products WHERE UnitsInStock < 10",
    ),
    q(
        "filter",
        "Which products are in the Beverages category?",
        "SELECT p.ProductName FROM Products p JOIN Categories c ON p.CategoryID = c.CategoryID"
        " WHERE c.CategoryName = 'Beverages'",
    ),
    q(
        "filter",
        "How many order lines had a quantity over 100?",
        "SELECT COUNT(*) FROM [Order Details] WHERE Quantity > 100",
    ),
    # comparisons
    q(
        "comparison",
        "Did we ship more orders to Germany or to the USA?",
        "SELECT ShipCountry, COUNT(*) FROM Orders WHERE ShipCountry IN ('Germany', 'USA') GROUP BY ShipCountry",
    ),
    q(
        "comparison",
        "Compare the number of orders in 2017 and 2018",
        "SELECT substr(OrderDate, 1, 4) AS y, COUNT(*) FROM Orders WHERE y IN ('2017', '2018') GROUP BY y",
    ),
    q(
        "comparison",
        "Which products cost more than the average price?",
        "SELECT ProductName FROM Products WHERE UnitPrice > (SELECT AVG(UnitPrice) FROM Products)",
    ),
    q(
        "comparison",
        "Freight of Speedy Express versus United Package",
        "SELECT s.CompanyName, SUM(o.Freight) FROM Orders o JOIN Shippers s ON o.ShipVia = s.ShipperID"
        " WHERE s.CompanyName IN ('Speedy Express', 'United Package') GROUP BY s.ShipperID",
    ),
    # negation
    q(
        "negation",
        "How many customers are not in the USA?",
        "SELECT COUNT(*) FROM Customers WHERE Country <> 'USA'",
    ),
    q(
        "negation",
        "How many products are not in the Beverages category?",
        "SELECT COUNT(*) FROM Products p JOIN Categories c ON p.CategoryID = c.CategoryID"
        " WHERE c.CategoryName <> 'Beverages'",
    ),
    q(
        "negation",
        "How many orders have not been shipped?",
        "SELECT COUNT(*) FROM Orders WHERE ShippedDate IS NULL",
    ),
    q(
        "negation",
        "Employees who are not sales representatives",
        f"SELECT {EMPLOYEE} FROM Employees e WHERE e.Title <> 'Sales Representative'",
    ),
    # listings
    q("listing", "List all categories", "SELECT CategoryName FROM Categories"),
    q("listing", "Show me the shippers", "SELECT CompanyName FROM Shippers"),
    q(
        "listing",
        "Which countries do our customers come from?",
        "SELECT DISTINCT Country FROM Customers WHERE Country IS NOT NULL",
    ),
    q("listing", "List the employees", f"SELECT {EMPLOYEE} FROM Employees e"),
    q(
        "listing",
        "Which employees report to Andrew Fuller?",
        f"SELECT {EMPLOYEE} FROM Employees e JOIN Employees m ON e.ReportsTo = m.EmployeeID"
        " WHERE m.FirstName = 'Andrew' AND m.LastName = 'Fuller'",
    ),
    q(
        "listing",
        "How many territories does each employee cover?",
        f"SELECT {EMPLOYEE}, COUNT(*) FROM EmployeeTerritories et JOIN Employees e ON et.EmployeeID = e.EmployeeID"
        " GROUP BY e.EmployeeID",
    ),
    q("listing", "Which regions are there?", "SELECT RegionDescription FROM Regions"),
    # schema
    q(
        "schema",
        "What tables are there?",
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    ),
    q(
        "schema",
        "What columns does the products table have?",
        "SELECT name FROM pragma_table_info('Products')",
    ),
    q(
        "schema",
        "Which columns are in the order details table?",
        "SELECT name FROM pragma_table_info('Order Details')",
    ),
    # charts
    q(
        "chart",
        "Chart the number of orders per month in 2017",
        "SELECT substr(OrderDate, 1, 7) AS m, COUNT(*) FROM Orders WHERE OrderDate LIKE '2017%' GROUP BY m",
        ordered=True,
    ),
    q(
        "chart",
        "Bar chart of products per category",
        "SELECT c.CategoryName, COUNT(*) FROM Products p JOIN Categories c ON p.CategoryID = c.CategoryID"
        " GROUP BY c.CategoryID",
    ),
    q(
        "chart",
        "Plot revenue by year",
        f"SELECT substr(o.OrderDate, 1, 4) AS y, SUM({REVENUE}) FROM [Order Details] od JOIN Orders o"
        " ON od.OrderID = o.OrderID GROUP BY y",
        ordered=True,
    ),
    # follow-up sequences
    q(
        "followup",
        ("How many orders were shipped to each country?", "only Germany and France"),
        "SELECT ShipCountry, COUNT(*) FROM Orders WHERE ShipCountry IN ('Germany', 'France') GROUP BY ShipCountry",
    ),
    q(
        "followup",
        ("Top 5 products by revenue", "now the bottom 5"),
        f"SELECT p.ProductName, SUM({REVENUE}) AS r FROM [Order Details] od JOIN Products p"
        " ON od.ProductID = p.ProductID GROUP BY p.ProductID ORDER BY r ASC LIMIT 5",
        ordered=True,
    ),
    q(
        "followup",
        ("How many customers are there?", "now only customers in the USA"),
        "SELECT COUNT(*) FROM Customers WHERE Country = 'USA'",
    ),
    q(
        "followup",
        ("Revenue by category", "show that as a chart"),
        f"SELECT c.CategoryName, SUM({REVENUE}) FROM [Order Details] od JOIN Products p ON od.ProductID = p.ProductID"
        " JOIN Categories c ON p.CategoryID = c.CategoryID GROUP BY c.CategoryID",
    ),
    q(
        "followup",
        ("Number of orders by shipper", "and the average freight?"),
        "SELECT s.CompanyName, AVG(o.Freight) FROM Orders o JOIN Shippers s ON o.ShipVia = s.ShipperID"
        " GROUP BY s.ShipperID",
    ),
)

CUSTOMER = "cu.first_name || ' ' || cu.last_name"
ACTOR = "a.first_name || ' ' || a.last_name"
STAFF = "s.first_name || ' ' || s.last_name"
FILM_CATEGORY = (
    "film f JOIN film_category fc ON f.film_id = fc.film_id JOIN category c ON fc.category_id = c.category_id"
)
CUSTOMER_COUNTRY = (
    "customer cu JOIN address ad ON cu.address_id = ad.address_id JOIN city ci ON ad.city_id = ci.city_id"
    " JOIN country co ON ci.country_id = co.country_id"
)

SAKILA: tuple[Question, ...] = (
    # counts
    q("count", "How many films are there?", "SELECT COUNT(*) FROM film"),
    q("count", "How many actors are in the database?", "SELECT COUNT(*) FROM actor"),
    q("count", "How many customers do we have?", "SELECT COUNT(*) FROM customer"),
    q("count", "How many rentals were made?", "SELECT COUNT(*) FROM rental"),
    q("count", "How many films are rated PG-13?", "SELECT COUNT(*) FROM film WHERE rating = 'PG-13'"),
    q("count", "How many active customers are there?", "SELECT COUNT(*) FROM customer WHERE active = '1'"),
    q(
        "count",
        "How many cities are in Canada?",
        "SELECT COUNT(*) FROM city ci JOIN country co ON ci.country_id = co.country_id WHERE co.country = 'Canada'",
    ),
    q("count", "How many inventory items are there?", "SELECT COUNT(*) FROM inventory"),
    # totals
    q("total", "What is the total amount of all payments?", "SELECT SUM(amount) FROM payment"),
    q(
        "total",
        "Total payments by staff member",
        f"SELECT {STAFF}, SUM(p.amount) FROM payment p JOIN staff s ON p.staff_id = s.staff_id GROUP BY s.staff_id",
    ),
    q("total", "What is the total length of all films in minutes?", "SELECT SUM(length) FROM film"),
    q(
        "total",
        "How much has each customer paid in total?",
        f"SELECT {CUSTOMER}, SUM(p.amount) FROM payment p JOIN customer cu ON p.customer_id = cu.customer_id"
        " GROUP BY cu.customer_id",
    ),
    q("total", "What is the total replacement cost of all films?", "SELECT SUM(replacement_cost) FROM film"),
    # averages
    q("average", "What is the average rental rate?", "SELECT AVG(rental_rate) FROM film"),
    q("average", "Average film length", "SELECT AVG(length) FROM film"),
    q("average", "What is the average payment amount?", "SELECT AVG(amount) FROM payment"),
    q("average", "Average film length by rating", "SELECT rating, AVG(length) FROM film GROUP BY rating"),
    q(
        "average",
        "Average replacement cost per category",
        f"SELECT c.name, AVG(f.replacement_cost) FROM {FILM_CATEGORY} GROUP BY c.category_id",
    ),
    q("average", "What is the average rental duration in days?", "SELECT AVG(rental_duration) FROM film"),
    # grouping through joins
    q(
        "group",
        "Number of films per category",
        f"SELECT c.name, COUNT(*) FROM {FILM_CATEGORY} GROUP BY c.category_id",
    ),
    q(
        "group",
        "How many films has each actor appeared in?",
        f"SELECT {ACTOR}, COUNT(*) FROM film_actor fa JOIN actor a ON fa.actor_id = a.actor_id GROUP BY a.actor_id",
    ),
    q(
        "group",
        "Customers per country",
        f"SELECT co.country, COUNT(*) FROM {CUSTOMER_COUNTRY} GROUP BY co.country_id",
    ),
    q(
        "group",
        "Number of rentals per staff member",
        f"SELECT {STAFF}, COUNT(*) FROM rental r JOIN staff s ON r.staff_id = s.staff_id GROUP BY s.staff_id",
    ),
    q(
        "group",
        "How many films are there in each language?",
        "SELECT l.name, COUNT(*) FROM film f JOIN language l ON f.language_id = l.language_id GROUP BY l.language_id",
    ),
    q(
        "group",
        "Revenue by film category",
        "SELECT c.name, SUM(p.amount) FROM payment p JOIN rental r ON p.rental_id = r.rental_id"
        " JOIN inventory i ON r.inventory_id = i.inventory_id JOIN film_category fc ON i.film_id = fc.film_id"
        " JOIN category c ON fc.category_id = c.category_id GROUP BY c.category_id",
    ),
    q(
        "group",
        "How many customers does each store have?",
        "SELECT store_id, COUNT(*) FROM customer GROUP BY store_id",
    ),
    q("group", "Number of films in each rating", "SELECT rating, COUNT(*) FROM film GROUP BY rating"),
    # top / bottom N
    q(
        "top",
        "Which 5 actors appeared in the most films?",
        f"SELECT {ACTOR}, COUNT(*) AS n FROM film_actor fa JOIN actor a ON fa.actor_id = a.actor_id"
        " GROUP BY a.actor_id ORDER BY n DESC LIMIT 5",
    ),
    q(
        "top",
        "Who are the top 5 customers by total payments?",
        f"SELECT {CUSTOMER}, SUM(p.amount) AS t FROM payment p JOIN customer cu ON p.customer_id = cu.customer_id"
        " GROUP BY cu.customer_id ORDER BY t DESC LIMIT 5",
    ),
    q(
        "top",
        "Which category has the most films?",
        f"SELECT c.name, COUNT(*) AS n FROM {FILM_CATEGORY} GROUP BY c.category_id ORDER BY n DESC LIMIT 1",
    ),
    q(
        "top",
        "Which country has the most customers?",
        f"SELECT co.country, COUNT(*) AS n FROM {CUSTOMER_COUNTRY} GROUP BY co.country_id ORDER BY n DESC LIMIT 1",
    ),
    q(
        "top",
        "Which 2 categories have the fewest films?",
        f"SELECT c.name, COUNT(*) AS n FROM {FILM_CATEGORY} GROUP BY c.category_id ORDER BY n ASC LIMIT 2",
    ),
    q(
        "top",
        "What are the 10 longest films?",
        "SELECT title, length FROM film ORDER BY length DESC LIMIT 10",
    ),
    q(
        "top",
        "Which staff member took the most payments?",
        f"SELECT {STAFF}, COUNT(*) AS n FROM payment p JOIN staff s ON p.staff_id = s.staff_id"
        " GROUP BY s.staff_id ORDER BY n DESC LIMIT 1",
    ),
    q(
        "top",
        "What is the most popular category by number of rentals?",
        "SELECT c.name, COUNT(*) AS n FROM rental r JOIN inventory i ON r.inventory_id = i.inventory_id"
        " JOIN film_category fc ON i.film_id = fc.film_id JOIN category c ON fc.category_id = c.category_id"
        " GROUP BY c.category_id ORDER BY n DESC LIMIT 1",
    ),
    # time ranges and series
    q(
        "time",
        "How many rentals were made in July 2005?",
        "SELECT COUNT(*) FROM rental WHERE rental_date >= '2005-07-01' AND rental_date < '2005-08-01'",
    ),
    q(
        "time",
        "Rentals per month",
        "SELECT substr(rental_date, 1, 7) AS m, COUNT(*) FROM rental GROUP BY m",
        ordered=True,
    ),
    q(
        "time",
        "Total payments per month in 2007",
        "SELECT substr(payment_date, 1, 7) AS m, SUM(amount) FROM payment WHERE payment_date LIKE '2007%' GROUP BY m",
        ordered=True,
    ),
    q(
        "time",
        "How many rentals were there in 2006?",
        "SELECT COUNT(*) FROM rental WHERE rental_date LIKE '2006%'",
    ),
    q(
        "time",
        "How much was paid last month?",
        "SELECT SUM(amount) FROM payment WHERE payment_date >= '2007-05-01' AND payment_date < '2007-06-01'",
    ),
    q(
        "time",
        "How many payments were made between March 1 and March 15, 2007?",
        "SELECT COUNT(*) FROM payment WHERE payment_date >= '2007-03-01' AND payment_date < '2007-03-16'",
    ),
    q(
        "time",
        "Number of rentals per year",
        "SELECT substr(rental_date, 1, 4) AS y, COUNT(*) FROM rental GROUP BY y",
        ordered=True,
    ),
    # value filters
    q("filter", "Films longer than 3 hours", "SELECT title FROM film WHERE length > 180"),
    q("filter", "Films shorter than 50 minutes", "SELECT title FROM film WHERE length < 50"),
    q("filter", "Which films have a rental rate of 4.99?", "SELECT title FROM film WHERE rental_rate = 4.99"),
    q(
        "filter",
        "Which films cost more than 29 dollars to replace?",
        "SELECT title FROM film WHERE replacement_cost > 29",
    ),
    q("filter", "How many payments were over 10 dollars?", "SELECT COUNT(*) FROM payment WHERE amount > 10"),
    q(
        "filter",
        "Customers whose last name is Smith",
        "SELECT first_name, last_name FROM customer WHERE last_name = 'SMITH'",
    ),
    q(
        "filter",
        "Films in the Comedy category",
        f"SELECT f.title FROM {FILM_CATEGORY} WHERE c.name = 'Comedy'",
    ),
    q(
        "filter",
        "Cities in Japan",
        "SELECT ci.city FROM city ci JOIN country co ON ci.country_id = co.country_id WHERE co.country = 'Japan'",
    ),
    # comparisons
    q(
        "comparison",
        "Do we have more G or PG films?",
        "SELECT rating, COUNT(*) FROM film WHERE rating IN ('G', 'PG') GROUP BY rating",
    ),
    q(
        "comparison",
        "Compare the average length of R and PG-13 films",
        "SELECT rating, AVG(length) FROM film WHERE rating IN ('R', 'PG-13') GROUP BY rating",
    ),
    q(
        "comparison",
        "Which films are longer than average?",
        "SELECT title FROM film WHERE length > (SELECT AVG(length) FROM film)",
    ),
    q(
        "comparison",
        "Payments taken by Mike versus Jon",
        f"SELECT {STAFF}, SUM(p.amount) FROM payment p JOIN staff s ON p.staff_id = s.staff_id GROUP BY s.staff_id",
        also=(
            f"SELECT {STAFF}, COUNT(*) FROM payment p JOIN staff s ON p.staff_id = s.staff_id GROUP BY s.staff_id",
        ),
    ),
    # negation
    q("negation", "How many films are not rated R?", "SELECT COUNT(*) FROM film WHERE rating <> 'R'"),
    q(
        "negation",
        "How many rentals have not been returned?",
        "SELECT COUNT(*) FROM rental WHERE return_date IS NULL",
    ),
    q("negation", "How many customers are not active?", "SELECT COUNT(*) FROM customer WHERE active = '0'"),
    q(
        "negation",
        "How many customers are not from the United States?",
        f"SELECT COUNT(*) FROM {CUSTOMER_COUNTRY} WHERE co.country <> 'United States'",
    ),
    # listings
    q("listing", "List all film categories", "SELECT name FROM category"),
    q("listing", "Which languages are there?", "SELECT name FROM language"),
    q("listing", "Show the staff", f"SELECT {STAFF} FROM staff s"),
    q(
        "listing",
        "Actors whose first name is Nick",
        "SELECT first_name, last_name FROM actor WHERE first_name = 'NICK'",
    ),
    q("listing", "What ratings are there?", "SELECT DISTINCT rating FROM film"),
    # schema
    q(
        "schema",
        "What tables are in this database?",
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    ),
    q("schema", "What columns does the film table have?", "SELECT name FROM pragma_table_info('film')"),
    q("schema", "Describe the payment table", "SELECT name FROM pragma_table_info('payment')"),
    # charts
    q(
        "chart",
        "Chart rentals per month",
        "SELECT substr(rental_date, 1, 7) AS m, COUNT(*) FROM rental GROUP BY m",
        ordered=True,
    ),
    q("chart", "Show a bar chart of films per rating", "SELECT rating, COUNT(*) FROM film GROUP BY rating"),
    q(
        "chart",
        "Plot the total payments by month",
        "SELECT substr(payment_date, 1, 7) AS m, SUM(amount) FROM payment GROUP BY m",
        ordered=True,
    ),
    # follow-up sequences
    q(
        "followup",
        ("How many films are in each category?", "only Action and Comedy"),
        f"SELECT c.name, COUNT(*) FROM {FILM_CATEGORY} WHERE c.name IN ('Action', 'Comedy') GROUP BY c.category_id",
    ),
    q(
        "followup",
        ("Top 5 categories by revenue", "now the bottom 5"),
        "SELECT c.name, SUM(p.amount) AS t FROM payment p JOIN rental r ON p.rental_id = r.rental_id"
        " JOIN inventory i ON r.inventory_id = i.inventory_id JOIN film_category fc ON i.film_id = fc.film_id"
        " JOIN category c ON fc.category_id = c.category_id GROUP BY c.category_id ORDER BY t ASC LIMIT 5",
        ordered=True,
    ),
    q(
        "followup",
        ("Average film length by rating", "what about the replacement cost?"),
        "SELECT rating, AVG(replacement_cost) FROM film GROUP BY rating",
    ),
    q(
        "followup",
        ("How many films are there?", "now only those rated G"),
        "SELECT COUNT(*) FROM film WHERE rating = 'G'",
    ),
    q(
        "followup",
        ("Number of customers per country", "show that as a chart"),
        f"SELECT co.country, COUNT(*) FROM {CUSTOMER_COUNTRY} GROUP BY co.country_id",
    ),
)

# Chinook (lerocha/chinook-database): a music store. CamelCase names, names split into FirstName and
# LastName (Employee has LastName first), track lengths in Milliseconds, money on Invoice.Total and
# on InvoiceLine.UnitPrice * Quantity (the two agree), BillingCountry on invoices. Written before the
# planner was run on Chinook.
INVOICE_CUSTOMER = "Invoice i JOIN Customer c ON i.CustomerId = c.CustomerId"
LINE_GENRE = "InvoiceLine il JOIN Track t ON il.TrackId = t.TrackId JOIN Genre g ON t.GenreId = g.GenreId"
TRACK_ARTIST = "Track t JOIN Album al ON t.AlbumId = al.AlbumId JOIN Artist ar ON al.ArtistId = ar.ArtistId"
REP = "Customer c JOIN Employee e ON c.SupportRepId = e.EmployeeId"
# A person's name in two columns, or in one ("Jane Peacock"): either is a right answer.
CUSTOMER_NAME = "c.FirstName || ' ' || c.LastName"
REP_NAME = "e.FirstName || ' ' || e.LastName"

CHINOOK: tuple[Question, ...] = (
    # counts
    q("count", "How many tracks are there?", "SELECT COUNT(*) FROM Track"),
    q(
        "count",
        "How many customers are from Brazil?",
        "SELECT COUNT(*) FROM Customer WHERE Country = 'Brazil'",
    ),
    q(
        "count",
        "How many albums does Iron Maiden have?",
        "SELECT COUNT(*) FROM Album al JOIN Artist ar ON al.ArtistId = ar.ArtistId WHERE ar.Name = 'Iron Maiden'",
    ),
    q(
        "count",
        "How many invoices were billed to Canada?",
        "SELECT COUNT(*) FROM Invoice WHERE BillingCountry = 'Canada'",
    ),
    # totals
    q(
        "total",
        "What are our total sales?",
        "SELECT SUM(Total) FROM Invoice",
        also=("SELECT SUM(UnitPrice * Quantity) FROM InvoiceLine",),
    ),
    q(
        "total",
        "Total sales by billing country",
        "SELECT BillingCountry, SUM(Total) FROM Invoice GROUP BY BillingCountry",
    ),
    q(
        "total",
        "Revenue per genre",
        "SELECT g.Name, SUM(il.UnitPrice * il.Quantity) FROM " + LINE_GENRE + " GROUP BY g.GenreId",
    ),
    # averages
    q("average", "What is the average invoice total?", "SELECT AVG(Total) FROM Invoice"),
    q(
        "average",
        "Average invoice total by country",
        "SELECT BillingCountry, AVG(Total) FROM Invoice GROUP BY BillingCountry",
        also=("SELECT c.Country, AVG(i.Total) FROM " + INVOICE_CUSTOMER + " GROUP BY c.Country",),
    ),
    q(
        "average",
        "What is the average track length in minutes?",
        "SELECT AVG(Milliseconds) / 60000.0 FROM Track",
    ),
    # group-bys
    q(
        "group",
        "How many tracks are in each genre?",
        "SELECT g.Name, COUNT(*) FROM Track t JOIN Genre g ON t.GenreId = g.GenreId GROUP BY g.GenreId",
    ),
    q(
        "group",
        "How many customers does each support rep have?",
        "SELECT e.FirstName, e.LastName, COUNT(*) FROM " + REP + " GROUP BY e.EmployeeId",
        also=(f"SELECT {REP_NAME}, COUNT(*) FROM " + REP + " GROUP BY e.EmployeeId",),
    ),
    q(
        "group",
        "Number of tracks per media type",
        "SELECT m.Name, COUNT(*) FROM Track t JOIN MediaType m ON t.MediaTypeId = m.MediaTypeId"
        " GROUP BY m.MediaTypeId",
    ),
    q(
        "group",
        "Total sales per support rep",
        "SELECT e.FirstName, e.LastName, SUM(i.Total) FROM "
        + INVOICE_CUSTOMER
        + " JOIN Employee e ON c.SupportRepId = e.EmployeeId GROUP BY e.EmployeeId",
        also=(
            f"SELECT {REP_NAME}, SUM(i.Total) FROM "
            + INVOICE_CUSTOMER
            + " JOIN Employee e ON c.SupportRepId = e.EmployeeId GROUP BY e.EmployeeId",
        ),
    ),
    # top-N
    q(
        "top",
        "Top 5 customers by total spent",
        "SELECT c.FirstName, c.LastName, SUM(i.Total) AS s FROM "
        + INVOICE_CUSTOMER
        + " GROUP BY c.CustomerId ORDER BY s DESC LIMIT 5",  # the 4th and 5th tie: compared as a set
        also=(
            f"SELECT {CUSTOMER_NAME}, SUM(i.Total) AS s FROM "
            + INVOICE_CUSTOMER
            + " GROUP BY c.CustomerId ORDER BY s DESC LIMIT 5",
        ),
    ),
    q(
        "top",
        "Which artist has the most albums?",
        "SELECT ar.Name, COUNT(*) AS n FROM Album al JOIN Artist ar ON al.ArtistId = ar.ArtistId"
        " GROUP BY ar.ArtistId ORDER BY n DESC LIMIT 1",
    ),
    q(
        "top",
        "Top 3 genres by number of tracks",
        "SELECT g.Name, COUNT(*) AS n FROM Track t JOIN Genre g ON t.GenreId = g.GenreId"
        " GROUP BY g.GenreId ORDER BY n DESC LIMIT 3",
        ordered=True,
    ),
    q(
        "top",
        "What are the 5 longest tracks?",
        "SELECT Name FROM Track ORDER BY Milliseconds DESC LIMIT 5",
        ordered=True,
    ),
    q(
        "top",
        "Which 3 artists earned the most?",
        "SELECT ar.Name, SUM(il.UnitPrice * il.Quantity) AS s FROM "
        + TRACK_ARTIST
        + " JOIN InvoiceLine il ON il.TrackId = t.TrackId GROUP BY ar.ArtistId ORDER BY s DESC LIMIT 3",
        ordered=True,
    ),
    # date ranges on InvoiceDate
    q(
        "time",
        "How many invoices were issued in 2023?",
        "SELECT COUNT(*) FROM Invoice WHERE InvoiceDate LIKE '2023%'",
    ),
    q(
        "time",
        "Sales per year",
        "SELECT substr(InvoiceDate, 1, 4) AS y, SUM(Total) FROM Invoice GROUP BY y",
        ordered=True,
    ),
    q(
        "time",
        "What were total sales last month?",
        "SELECT SUM(Total) FROM Invoice WHERE InvoiceDate >= '2025-12-01' AND InvoiceDate < '2026-01-01'",
    ),
    q(
        "time",
        "Invoices per month in 2024",
        "SELECT substr(InvoiceDate, 1, 7) AS m, COUNT(*) FROM Invoice WHERE InvoiceDate LIKE '2024%' GROUP BY m",
        ordered=True,
    ),
    q(
        "time",
        "How many employees were hired in 2003?",
        "SELECT COUNT(*) FROM Employee WHERE HireDate LIKE '2003%'",
    ),
    # filters
    q(
        "filter",
        "How many tracks are longer than 5 minutes?",
        "SELECT COUNT(*) FROM Track WHERE Milliseconds > 300000",
    ),
    q(
        "filter",
        "Customers in Canada",
        "SELECT c.FirstName, c.LastName FROM Customer c WHERE c.Country = 'Canada'",
        also=(f"SELECT {CUSTOMER_NAME} FROM Customer c WHERE c.Country = 'Canada'",),
    ),
    q("filter", "Invoices with a total over 15", "SELECT InvoiceId FROM Invoice WHERE Total > 15"),
    q(
        "filter",
        "How many tracks by Queen are there?",
        "SELECT COUNT(*) FROM " + TRACK_ARTIST + " WHERE ar.Name = 'Queen'",
    ),
    q(
        "filter",
        "Customers supported by Jane Peacock",
        "SELECT c.FirstName, c.LastName FROM "
        + REP
        + " WHERE e.FirstName = 'Jane' AND e.LastName = 'Peacock'",
        also=(
            f"SELECT {CUSTOMER_NAME} FROM " + REP + " WHERE e.FirstName = 'Jane' AND e.LastName = 'Peacock'",
        ),
    ),
    q(
        "filter",
        "How many tracks are on the Grunge playlist?",
        "SELECT COUNT(*) FROM PlaylistTrack pt JOIN Playlist p ON pt.PlaylistId = p.PlaylistId"
        " WHERE p.Name = 'Grunge'",
    ),
    # comparison and negation
    q(
        "comparison",
        "Sales in Canada versus France",
        "SELECT BillingCountry, SUM(Total) FROM Invoice WHERE BillingCountry IN ('Canada', 'France')"
        " GROUP BY BillingCountry",
    ),
    q(
        "negation",
        "How many customers are not from the USA?",
        "SELECT COUNT(*) FROM Customer WHERE Country <> 'USA'",
    ),
    q("negation", "How many tracks have no composer?", "SELECT COUNT(*) FROM Track WHERE Composer IS NULL"),
    # listings and schema
    q("listing", "List all genres", "SELECT Name FROM Genre"),
    q(
        "listing",
        "Show the employees and their titles",
        "SELECT e.FirstName, e.LastName, e.Title FROM Employee e",
        also=(f"SELECT {REP_NAME}, e.Title FROM Employee e",),
    ),
    q("schema", "What columns does the invoice table have?", "SELECT name FROM pragma_table_info('Invoice')"),
    # charts
    q(
        "chart",
        "Bar chart of the number of tracks per genre",
        "SELECT g.Name, COUNT(*) FROM Track t JOIN Genre g ON t.GenreId = g.GenreId GROUP BY g.GenreId",
    ),
    # follow-ups
    q(
        "followup",
        ("How many customers are there per country?", "only Germany and France"),
        "SELECT Country, COUNT(*) FROM Customer WHERE Country IN ('Germany', 'France') GROUP BY Country",
    ),
    q(
        "followup",
        ("Total sales by year", "now only for Brazil"),
        "SELECT substr(InvoiceDate, 1, 4) AS y, SUM(Total) FROM Invoice WHERE BillingCountry = 'Brazil' GROUP BY y",
        ordered=True,
    ),
)

# Held out: written after the planner was changed for the sets above, and run once before any
# further change, for an estimate on questions the planner was not tuned on (benchmark output
# "(held out)"). Same judging.
NORTHWIND_HELD_OUT: tuple[Question, ...] = (
    q(
        "group",
        "How many orders did each customer place?",
        "SELECT cu.CompanyName, COUNT(*) FROM Orders o JOIN Customers cu ON o.CustomerID = cu.CustomerID"
        " GROUP BY cu.CustomerID",
    ),
    q(
        "time",
        "What was the total freight in 2017?",
        "SELECT SUM(Freight) FROM Orders WHERE OrderDate LIKE '2017%'",
    ),
    q(
        "top",
        "Which city has the most customers?",
        "SELECT City, COUNT(*) AS n FROM Customers GROUP BY City ORDER BY n DESC LIMIT 1",
    ),
    q(
        "average",
        "Average unit price of discontinued products",
        "SELECT AVG(UnitPrice) FROM Products WHERE Discontinued = '1'",
    ),
    q(
        "filter",
        "List the products supplied by Tokyo Traders",
        "SELECT p.ProductName FROM Products p JOIN Suppliers s ON p.SupplierID = s.SupplierID"
        " WHERE s.CompanyName = 'Tokyo Traders'",
    ),
    q(
        "count",
        "How many employees are based in the UK?",
        "SELECT COUNT(*) FROM Employees WHERE Country = 'UK'",
    ),
    q(
        "time",
        "Orders per year",
        "SELECT substr(OrderDate, 1, 4) AS y, COUNT(*) FROM Orders GROUP BY y",
        ordered=True,
    ),
    q(
        "top",
        "Top 3 shippers by number of orders",
        "SELECT s.CompanyName, COUNT(*) AS n FROM Orders o JOIN Shippers s ON o.ShipVia = s.ShipperID"
        " GROUP BY s.ShipperID ORDER BY n DESC LIMIT 3",
        ordered=True,
    ),
    q(
        "total",
        "Total quantity sold of Chai",
        "SELECT SUM(od.Quantity) FROM [Order Details] od JOIN Products p ON od.ProductID = p.ProductID"
        " WHERE p.ProductName = 'Chai'",
    ),
    q(
        "followup",
        ("How many customers does each country have?", "now only Mexico and Spain"),
        "SELECT Country, COUNT(*) FROM Customers WHERE Country IN ('Mexico', 'Spain') GROUP BY Country",
    ),
    q(
        "negation",
        "How many products are not discontinued?",
        "SELECT COUNT(*) FROM Products WHERE Discontinued = '0'",
    ),
    q(
        "chart",
        "Line chart of revenue by month in 2017",
        f"SELECT substr(o.OrderDate, 1, 7) AS m, SUM({REVENUE}) FROM [Order Details] od JOIN Orders o"
        " ON od.OrderID = o.OrderID WHERE o.OrderDate LIKE '2017%' GROUP BY m",
        ordered=True,
    ),
)

SAKILA_HELD_OUT: tuple[Question, ...] = (
    q(
        "filter",
        "How many films are in the Action category?",
        f"SELECT COUNT(*) FROM {FILM_CATEGORY} WHERE c.name = 'Action'",
    ),
    q(
        "average",
        "Average payment amount per staff member",
        f"SELECT {STAFF}, AVG(p.amount) FROM payment p JOIN staff s ON p.staff_id = s.staff_id GROUP BY s.staff_id",
    ),
    q(
        "top",
        "Which store has the most customers?",
        "SELECT store_id, COUNT(*) AS n FROM customer GROUP BY store_id ORDER BY n DESC LIMIT 1",
    ),
    q(
        "count",
        "How many films were released in 2006?",
        "SELECT COUNT(*) FROM film WHERE release_year = '2006'",
    ),
    q("filter", "List films with a length under 60 minutes", "SELECT title FROM film WHERE length < 60"),
    q(
        "time",
        "Total payments in March 2007",
        "SELECT SUM(amount) FROM payment WHERE payment_date >= '2007-03-01' AND payment_date < '2007-04-01'",
    ),
    q(
        "top",
        "Which 2 cities have the most customers?",
        "SELECT ci.city, COUNT(*) AS n FROM customer cu JOIN address ad ON cu.address_id = ad.address_id"
        " JOIN city ci ON ad.city_id = ci.city_id GROUP BY ci.city_id ORDER BY n DESC LIMIT 2",
    ),
    q(
        "count",
        "How many actors have the last name Davis?",
        "SELECT COUNT(*) FROM actor WHERE last_name = 'DAVIS'",
    ),
    q(
        "chart",
        "Number of films by rating as a bar chart",
        "SELECT rating, COUNT(*) FROM film GROUP BY rating",
    ),
    q("filter", "How many films cost 0.99 to rent?", "SELECT COUNT(*) FROM film WHERE rental_rate = 0.99"),
    q(
        "average",
        "Average rental duration by rating",
        "SELECT rating, AVG(rental_duration) FROM film GROUP BY rating",
    ),
    q(
        "followup",
        ("Rentals per month", "only those handled by Mike"),
        "SELECT substr(r.rental_date, 1, 7) AS m, COUNT(*) FROM rental r JOIN staff s ON r.staff_id = s.staff_id"
        " WHERE s.first_name = 'Mike' GROUP BY m",
        ordered=True,
    ),
)

# Written after the planner was changed for the Chinook set above, run once, recorded as it came.
CHINOOK_HELD_OUT: tuple[Question, ...] = (
    q("count", "How many playlists are there?", "SELECT COUNT(*) FROM Playlist"),
    q(
        "top",
        "Which genre has the most tracks?",
        "SELECT g.Name, COUNT(*) AS n FROM Track t JOIN Genre g ON t.GenreId = g.GenreId"
        " GROUP BY g.GenreId ORDER BY n DESC LIMIT 1",
    ),
    q(
        "average",
        "Average unit price of tracks by media type",
        "SELECT m.Name, AVG(t.UnitPrice) FROM Track t JOIN MediaType m ON t.MediaTypeId = m.MediaTypeId"
        " GROUP BY m.MediaTypeId",
    ),
    q("time", "Total sales in 2024", "SELECT SUM(Total) FROM Invoice WHERE InvoiceDate LIKE '2024%'"),
    q("filter", "How many customers are in Paris?", "SELECT COUNT(*) FROM Customer WHERE City = 'Paris'"),
    q(
        "top",
        "Top 5 countries by number of invoices",
        "SELECT BillingCountry, COUNT(*) AS n FROM Invoice GROUP BY BillingCountry ORDER BY n DESC LIMIT 5",
        also=(
            "SELECT c.Country, COUNT(*) AS n FROM Invoice i JOIN Customer c ON i.CustomerId = c.CustomerId"
            " GROUP BY c.Country ORDER BY n DESC LIMIT 5",
        ),
    ),
    q(
        "filter",
        "How many tracks are shorter than 2 minutes?",
        "SELECT COUNT(*) FROM Track WHERE Milliseconds < 120000",
    ),
    q(
        "followup",
        ("Tracks per genre", "only Jazz and Blues"),
        "SELECT g.Name, COUNT(*) FROM Track t JOIN Genre g ON t.GenreId = g.GenreId"
        " WHERE g.Name IN ('Jazz', 'Blues') GROUP BY g.GenreId",
    ),
)

# jaffle_shop (dbt-labs/jaffle_shop): a small shop. Three tables (customers, orders, payments), ids
# named plain "id", the customer of an order in orders.user_id, customers' last names as an initial
# ("Rose M."), amounts in cents on payments (an order may have several), a status on orders. Written
# before the planner was run on jaffle_shop, or its code read.
JAFFLE_TODAY = dt.date(2018, 4, 15)  # the last order is dated 2018-04-09
ORDER_CUSTOMER = "orders o JOIN customers c ON o.user_id = c.id"
PAYMENT_ORDER = "payments p JOIN orders o ON p.order_id = o.id"
SHOPPER = "c.first_name || ' ' || c.last_name"

JAFFLE: tuple[Question, ...] = (
    # counts
    q("count", "How many customers do we have?", "SELECT COUNT(*) FROM customers"),
    q("count", "How many orders are there?", "SELECT COUNT(*) FROM orders"),
    q("count", "How many payments have been made?", "SELECT COUNT(*) FROM payments"),
    q(
        "count",
        "How many orders have been returned?",
        "SELECT COUNT(*) FROM orders WHERE status = 'returned'",
    ),
    q(
        "count",
        "How many completed orders are there?",
        "SELECT COUNT(*) FROM orders WHERE status = 'completed'",
    ),
    q(
        "count",
        "How many customers have placed an order?",
        "SELECT COUNT(DISTINCT user_id) FROM orders",
    ),
    # totals
    q("total", "What is the total amount of all payments?", "SELECT SUM(amount) FROM payments"),
    q(
        "total",
        "Total amount paid by credit card",
        "SELECT SUM(amount) FROM payments WHERE payment_method = 'credit_card'",
    ),
    q(
        "total",
        "Total payment amount for each payment method",
        "SELECT payment_method, SUM(amount) FROM payments GROUP BY payment_method",
    ),
    # averages
    q("average", "What is the average payment amount?", "SELECT AVG(amount) FROM payments"),
    q(
        "average",
        "Average payment amount by payment method",
        "SELECT payment_method, AVG(amount) FROM payments GROUP BY payment_method",
    ),
    # group-bys
    q("group", "Number of orders by status", "SELECT status, COUNT(*) FROM orders GROUP BY status"),
    q(
        "group",
        "How many payments were made with each payment method?",
        "SELECT payment_method, COUNT(*) FROM payments GROUP BY payment_method",
    ),
    q(
        "group",
        "How many orders has each customer placed?",
        f"SELECT {SHOPPER}, COUNT(*) FROM {ORDER_CUSTOMER} GROUP BY c.id",
        also=(
            f"SELECT {SHOPPER}, COUNT(o.id) FROM customers c LEFT JOIN orders o ON o.user_id = c.id GROUP BY c.id",
        ),
    ),
    q(
        "group",
        "Total amount paid per order status",
        f"SELECT o.status, SUM(p.amount) FROM {PAYMENT_ORDER} GROUP BY o.status",
    ),
    # top-N
    q(
        "top",
        "Which customer placed the most orders?",
        f"SELECT {SHOPPER}, COUNT(*) AS n FROM {ORDER_CUSTOMER} GROUP BY c.id ORDER BY n DESC LIMIT 1",
    ),
    q(
        "top",
        "Top 3 customers by total amount paid",
        f"SELECT {SHOPPER}, SUM(p.amount) AS s FROM {PAYMENT_ORDER} JOIN customers c ON o.user_id = c.id"
        " GROUP BY c.id ORDER BY s DESC LIMIT 3",
        ordered=True,
    ),
    q(
        "top",
        "Which payment method is used most often?",
        "SELECT payment_method, COUNT(*) AS n FROM payments GROUP BY payment_method ORDER BY n DESC LIMIT 1",
    ),
    q(
        "top",
        "Which order has the largest total payment?",
        "SELECT order_id, SUM(amount) AS s FROM payments GROUP BY order_id ORDER BY s DESC LIMIT 1",
    ),
    # time
    q(
        "time",
        "Number of orders per month",
        "SELECT substr(order_date, 1, 7) AS m, COUNT(*) FROM orders GROUP BY m",
        ordered=True,
    ),
    q(
        "time",
        "How many orders were placed in February 2018?",
        "SELECT COUNT(*) FROM orders WHERE order_date LIKE '2018-02%'",
    ),
    q(
        "time",
        "How many orders did we get last month?",
        "SELECT COUNT(*) FROM orders WHERE order_date LIKE '2018-03%'",
    ),
    q(
        "time",
        "Total payments by month",
        f"SELECT substr(o.order_date, 1, 7) AS m, SUM(p.amount) FROM {PAYMENT_ORDER} GROUP BY m",
        ordered=True,
    ),
    q("time", "When was the first order placed?", "SELECT MIN(order_date) FROM orders"),
    # filters
    q("filter", "How many payments were over 2000?", "SELECT COUNT(*) FROM payments WHERE amount > 2000"),
    q(
        "filter",
        "How many orders has Rose M. placed?",
        f"SELECT COUNT(*) FROM {ORDER_CUSTOMER} WHERE c.first_name = 'Rose' AND c.last_name = 'M.'",
    ),
    q(
        "filter",
        "How many customers are named Michael?",
        "SELECT COUNT(*) FROM customers WHERE first_name = 'Michael'",
    ),
    # comparisons
    q(
        "comparison",
        "Compare the total amount paid by credit card and by bank transfer",
        "SELECT payment_method, SUM(amount) FROM payments WHERE payment_method IN ('credit_card', 'bank_transfer')"
        " GROUP BY payment_method",
    ),
    q(
        "comparison",
        "Which payments are larger than the average payment?",
        "SELECT id, amount FROM payments WHERE amount > (SELECT AVG(amount) FROM payments)",
    ),
    # negation
    q(
        "negation",
        "How many orders are not completed?",
        "SELECT COUNT(*) FROM orders WHERE status <> 'completed'",
    ),
    q(
        "negation",
        "How many customers have never placed an order?",
        "SELECT COUNT(*) FROM customers WHERE id NOT IN (SELECT user_id FROM orders)",
    ),
    # listings
    q("listing", "List the payment methods", "SELECT DISTINCT payment_method FROM payments"),
    q("listing", "Show the customers", f"SELECT {SHOPPER} FROM customers c"),
    # schema
    q(
        "schema",
        "What tables are there?",
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    ),
    q("schema", "What columns does the orders table have?", "SELECT name FROM pragma_table_info('orders')"),
    # charts
    q("chart", "Bar chart of orders by status", "SELECT status, COUNT(*) FROM orders GROUP BY status"),
    # follow-ups
    q(
        "followup",
        ("How many orders are there?", "and by month?"),
        "SELECT substr(order_date, 1, 7) AS m, COUNT(*) FROM orders GROUP BY m",
        ordered=True,
    ),
    q(
        "followup",
        ("Total payment amount by payment method", "only for completed orders"),
        f"SELECT p.payment_method, SUM(p.amount) FROM {PAYMENT_ORDER} WHERE o.status = 'completed'"
        " GROUP BY p.payment_method",
    ),
)

# Written with JAFFLE, before the planner was run on jaffle_shop; run once after the changes made
# for JAFFLE, recorded as it came, never tuned on.
JAFFLE_HELD_OUT: tuple[Question, ...] = (
    q(
        "count",
        "How many orders are pending return?",
        "SELECT COUNT(*) FROM orders WHERE status = 'return_pending'",
    ),
    q(
        "total",
        "Total amount paid with coupons",
        "SELECT SUM(amount) FROM payments WHERE payment_method = 'coupon'",
    ),
    q(
        "average",
        "What is the average bank transfer payment?",
        "SELECT AVG(amount) FROM payments WHERE payment_method = 'bank_transfer'",
    ),
    q(
        "count",
        "How many payments were made by gift card?",
        "SELECT COUNT(*) FROM payments WHERE payment_method = 'gift_card'",
    ),
    q(
        "time",
        "How many orders were placed in January?",
        "SELECT COUNT(*) FROM orders WHERE order_date LIKE '2018-01%'",
    ),
    q(
        "top",
        "Top 6 customers by number of orders",
        f"SELECT {SHOPPER}, COUNT(*) AS n FROM {ORDER_CUSTOMER} GROUP BY c.id ORDER BY n DESC LIMIT 6",
    ),
    q(
        "group",
        "Total amount paid by each customer",
        f"SELECT {SHOPPER}, SUM(p.amount) FROM {PAYMENT_ORDER} JOIN customers c ON o.user_id = c.id GROUP BY c.id",
    ),
    q(
        "count",
        "How many different customers ordered in March 2018?",
        "SELECT COUNT(DISTINCT user_id) FROM orders WHERE order_date LIKE '2018-03%'",
    ),
    q(
        "chart",
        ("Payments by payment method", "show it as a pie chart"),
        "SELECT payment_method, COUNT(*) FROM payments GROUP BY payment_method",
        also=("SELECT payment_method, SUM(amount) FROM payments GROUP BY payment_method",),
    ),
    q(
        "filter",
        "How many orders were paid with more than one payment?",
        "SELECT COUNT(*) FROM (SELECT order_id FROM payments GROUP BY order_id HAVING COUNT(*) > 1)",
    ),
)

# seaborn's sample data (tests/data/seaborn): four unrelated tables, no keys, no dates; flights has
# a year and a month name. Nothing in the questions is relative to today.
SEABORN_TODAY = dt.date(2025, 6, 18)

SEABORN: tuple[Question, ...] = (
    # counts
    q("count", "How many passengers were on the Titanic?", "SELECT COUNT(*) FROM titanic"),
    q(
        "count",
        "How many passengers survived?",
        "SELECT COUNT(*) FROM titanic WHERE survived = 1",
    ),
    q(
        "count",
        "How many passengers did not survive?",
        "SELECT COUNT(*) FROM titanic WHERE survived = 0",
    ),
    q("count", "How many penguins are there?", "SELECT COUNT(*) FROM penguins"),
    q(
        "count",
        "How many female penguins are there?",
        "SELECT COUNT(*) FROM penguins WHERE sex = 'FEMALE'",
    ),
    q(
        "count",
        "How many passengers embarked at Southampton?",
        "SELECT COUNT(*) FROM titanic WHERE embark_town = 'Southampton'",
    ),
    q("count", "How many children were on board?", "SELECT COUNT(*) FROM titanic WHERE who = 'child'"),
    # totals
    q("total", "What is the sum of all total bills?", "SELECT SUM(total_bill) FROM tips"),
    q(
        "total",
        "How many passengers flew in 1955?",
        "SELECT SUM(passengers) FROM flights WHERE year = 1955",
    ),
    # averages
    q("average", "What is the average tip?", "SELECT AVG(tip) FROM tips"),
    q("average", "Average tip by day", "SELECT day, AVG(tip) FROM tips GROUP BY day"),
    q(
        "average",
        "What was the average age of the passengers?",
        "SELECT AVG(age) FROM titanic",
    ),
    q(
        "average",
        "Average fare by class",
        "SELECT class, AVG(fare) FROM titanic GROUP BY class",
        also=("SELECT pclass, AVG(fare) FROM titanic GROUP BY pclass",),
    ),
    q(
        "average",
        "Average body mass by species",
        "SELECT species, AVG(body_mass_g) FROM penguins GROUP BY species",
    ),
    q(
        "average",
        "Average flipper length of penguins on Biscoe island",
        "SELECT AVG(flipper_length_mm) FROM penguins WHERE island = 'Biscoe'",
    ),
    q(
        "average",
        "Average monthly passengers in 1960",
        "SELECT AVG(passengers) FROM flights WHERE year = 1960",
    ),
    q(
        "average",
        "Average tip for parties of 4 or more",
        "SELECT AVG(tip) FROM tips WHERE size >= 4",
    ),
    q(
        "average",
        "What is the average tip as a percentage of the bill?",
        "SELECT AVG(100.0 * tip / total_bill) FROM tips",
        also=(
            "SELECT AVG(tip / total_bill) FROM tips",
            "SELECT 100.0 * SUM(tip) / SUM(total_bill) FROM tips",
        ),
    ),
    # group-bys
    q(
        "group",
        "Survival rate by class",
        "SELECT class, AVG(survived) FROM titanic GROUP BY class",
        also=(
            "SELECT class, 100.0 * AVG(survived) FROM titanic GROUP BY class",
            "SELECT pclass, AVG(survived) FROM titanic GROUP BY pclass",
            "SELECT pclass, 100.0 * AVG(survived) FROM titanic GROUP BY pclass",
        ),
    ),
    q(
        "group",
        "How many passengers survived by sex?",
        "SELECT sex, COUNT(*) FROM titanic WHERE survived = 1 GROUP BY sex",
    ),
    q(
        "group",
        "How many penguins of each species?",
        "SELECT species, COUNT(*) FROM penguins GROUP BY species",
    ),
    q("group", "Number of penguins per island", "SELECT island, COUNT(*) FROM penguins GROUP BY island"),
    q(
        "group",
        "Average bill length by species and sex",
        "SELECT species, sex, AVG(bill_length_mm) FROM penguins WHERE sex IS NOT NULL GROUP BY species, sex",
        also=("SELECT species, sex, AVG(bill_length_mm) FROM penguins GROUP BY species, sex",),
    ),
    q("group", "Number of bills by time", "SELECT time, COUNT(*) FROM tips GROUP BY time"),
    q(
        "group",
        "Total passengers per year",
        "SELECT year, SUM(passengers) FROM flights GROUP BY year ORDER BY year",
        ordered=True,
    ),
    # top-N
    q(
        "top",
        "Which species has the heaviest penguins?",
        "SELECT species FROM penguins GROUP BY species ORDER BY AVG(body_mass_g) DESC LIMIT 1",
    ),
    q("top", "What was the highest fare?", "SELECT MAX(fare) FROM titanic"),
    q(
        "top",
        "Which day has the highest total bill?",
        "SELECT day FROM tips GROUP BY day ORDER BY SUM(total_bill) DESC LIMIT 1",
    ),
    q(
        "top",
        "Which month had the most passengers?",
        "SELECT month FROM flights GROUP BY month ORDER BY SUM(passengers) DESC LIMIT 1",
    ),
    q(
        "top",
        "Top 5 biggest tips",
        "SELECT tip FROM tips ORDER BY tip DESC LIMIT 5",
        ordered=True,
    ),
    # filters
    q(
        "filter",
        "How many passengers paid a fare over 100?",
        "SELECT COUNT(*) FROM titanic WHERE fare > 100",
    ),
    q(
        "filter",
        "How many penguins weigh more than 5000 grams?",
        "SELECT COUNT(*) FROM penguins WHERE body_mass_g > 5000",
    ),
    q(
        "filter",
        "How many bills were over 30 dollars?",
        "SELECT COUNT(*) FROM tips WHERE total_bill > 30",
    ),
    q(
        "filter",
        "How many female passengers in first class survived?",
        "SELECT COUNT(*) FROM titanic WHERE sex = 'female' AND class = 'First' AND survived = 1",
    ),
    # comparisons
    q(
        "comparison",
        "Do smokers tip more than non-smokers?",
        "SELECT smoker, AVG(tip) FROM tips GROUP BY smoker",
    ),
    # listings
    q("listing", "List the islands", "SELECT DISTINCT island FROM penguins"),
    # schema
    q(
        "schema",
        "What tables are there?",
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    ),
    q(
        "schema",
        "What columns does the penguins table have?",
        "SELECT name FROM pragma_table_info('penguins')",
    ),
    # charts
    q(
        "chart",
        "Line chart of total passengers per year",
        "SELECT year, SUM(passengers) FROM flights GROUP BY year ORDER BY year",
        ordered=True,
    ),
    # follow-ups
    q(
        "followup",
        ("Average fare by class", "only for survivors"),
        "SELECT class, AVG(fare) FROM titanic WHERE survived = 1 GROUP BY class",
        also=("SELECT pclass, AVG(fare) FROM titanic WHERE survived = 1 GROUP BY pclass",),
    ),
    q(
        "followup",
        ("How many penguins are there?", "by island?"),
        "SELECT island, COUNT(*) FROM penguins GROUP BY island",
    ),
    q(
        "followup",
        ("Average tip by day", "and for dinner only?"),
        "SELECT day, AVG(tip) FROM tips WHERE time = 'Dinner' GROUP BY day",
    ),
)

# Written with SEABORN, before the planner was run on these tables; run once after the changes
# made for SEABORN, recorded as it came, never tuned on.
SEABORN_HELD_OUT: tuple[Question, ...] = (
    q(
        "count",
        "How many men survived?",
        "SELECT COUNT(*) FROM titanic WHERE who = 'man' AND survived = 1",
        also=("SELECT COUNT(*) FROM titanic WHERE sex = 'male' AND survived = 1",),
    ),
    q("average", "Average age by class", "SELECT class, AVG(age) FROM titanic GROUP BY class"),
    q(
        "count",
        "How many passengers were travelling alone?",
        "SELECT COUNT(*) FROM titanic WHERE alone = 1",
    ),
    q(
        "top",
        "Which island has the most penguins?",
        "SELECT island FROM penguins GROUP BY island ORDER BY COUNT(*) DESC LIMIT 1",
    ),
    q(
        "average",
        "Average bill depth of Chinstrap penguins",
        "SELECT AVG(bill_depth_mm) FROM penguins WHERE species = 'Chinstrap'",
    ),
    q("total", "Total tips by day", "SELECT day, SUM(tip) FROM tips GROUP BY day"),
    q("count", "How many smokers are there?", "SELECT COUNT(*) FROM tips WHERE smoker = 'Yes'"),
    q(
        "average",
        "Average total bill at lunch",
        "SELECT AVG(total_bill) FROM tips WHERE time = 'Lunch'",
    ),
    q(
        "filter",
        "Passengers by month in 1949",
        "SELECT month, passengers FROM flights WHERE year = 1949",
    ),
    q("top", "What was the largest number of passengers in a month?", "SELECT MAX(passengers) FROM flights"),
    q(
        "group",
        "Survival rate by sex",
        "SELECT sex, AVG(survived) FROM titanic GROUP BY sex",
        also=("SELECT sex, 100.0 * AVG(survived) FROM titanic GROUP BY sex",),
    ),
    q(
        "filter",
        "How many Gentoo penguins weigh over 5500 grams?",
        "SELECT COUNT(*) FROM penguins WHERE species = 'Gentoo' AND body_mass_g > 5500",
    ),
)
